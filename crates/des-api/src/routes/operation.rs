//! The documented shape of an operation, and the builder that pairs it with its handler.

use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::state::ApiState;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// One documented parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub required: bool,
    /// `string`, `boolean`; `uuid` is a string with format `uuid`.
    pub kind: &'static str,
    pub description: &'static str,
}

/// One operation of the API, as documented.
#[derive(Debug, Clone)]
pub struct Operation {
    pub method: Method,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub params: Vec<Param>,
    /// Schema name of the JSON request body.
    pub body: Option<&'static str>,
    pub status: StatusCode,
    /// Schema of the answer: a component name, `[Name]` for an array, `boolean`, `text`,
    /// or `None` for no body.
    pub response: Option<&'static str>,
    /// Needs a bearer token.
    pub secured: bool,
    /// Not part of DES: an extension of this implementation.
    pub extension: bool,
    /// May answer 409 (a name taken, a concurrent change, privacy terms not accepted).
    pub conflict: bool,
}

/// An operation and its handler.
pub struct Route {
    pub operation: Operation,
    pub(super) handler: MethodRouter<ApiState>,
}

/// Builds a route; `doc` is completed with the method and path.
pub(super) fn route<H, T>(method: Method, path: &'static str, doc: Doc, handler: H) -> Route
where
    H: Handler<T, ApiState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).unwrap_or(MethodFilter::GET);
    let operation = Operation {
        method,
        path,
        operation_id: doc.0,
        tag: doc.1,
        summary: doc.2,
        params: Vec::new(),
        body: None,
        status: StatusCode::OK,
        response: None,
        secured: true,
        extension: false,
        conflict: false,
    };
    Route {
        operation,
        handler: on(filter, handler),
    }
}

/// `(operationId, tag, summary)`.
pub(super) type Doc = (&'static str, &'static str, &'static str);

impl Route {
    pub(super) fn params(mut self, params: &[Param]) -> Self {
        self.operation.params = params.to_vec();
        self
    }

    pub(super) fn body(mut self, schema: &'static str) -> Self {
        self.operation.body = Some(schema);
        self
    }

    pub(super) fn returns(mut self, status: StatusCode, schema: Option<&'static str>) -> Self {
        self.operation.status = status;
        self.operation.response = schema;
        self
    }

    pub(super) fn public(mut self) -> Self {
        self.operation.secured = false;
        self
    }

    pub(super) fn extension(mut self) -> Self {
        self.operation.extension = true;
        self
    }

    pub(super) fn conflicts(mut self) -> Self {
        self.operation.conflict = true;
        self
    }
}
