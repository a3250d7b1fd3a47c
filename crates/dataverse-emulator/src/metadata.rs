//! Metadata JSON (EntityMetadata, AttributeMetadata, option sets, relationships) in the key
//! order of the documentation samples. Metadata is small, so `serde_json` values are fine here.

use crate::schema::{AttrDef, EntityDef, Kind, ManyToMany, OptionDef, OptionSetDef, metadata_id};
use serde_json::{Map, Value, json};

pub fn label(text: &str, id: uuid::Uuid) -> Value {
    let l = json!({"Label": text, "LanguageCode": 1033, "IsManaged": true, "MetadataId": id, "HasChanged": null});
    json!({"LocalizedLabels": [l.clone()], "UserLocalizedLabel": l})
}

fn empty_label() -> Value {
    json!({"LocalizedLabels": [], "UserLocalizedLabel": null})
}

pub fn managed(value: Value, can_change: bool, name: &str) -> Value {
    json!({"Value": value, "CanBeChanged": can_change, "ManagedPropertyLogicalName": name})
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Full EntityMetadata, keys as in `entity-definition-full.json`.
pub fn entity(def: &EntityDef) -> Map<String, Value> {
    let custom = def.is_custom;
    let t = |v: bool, name: &str| managed(json!(v), true, name);
    obj(json!({
        "ActivityTypeMask": 0, "AutoRouteToOwnerQueue": false, "CanTriggerWorkflow": true,
        "Description": label(&format!("Emulated {} table", def.display), metadata_id(&["desc", &def.logical_name])),
        "DisplayCollectionName": label(&def.display_plural, metadata_id(&["plural", &def.logical_name])),
        "DisplayName": label(&def.display, metadata_id(&["display", &def.logical_name])),
        "EntityHelpUrlEnabled": false, "EntityHelpUrl": null, "IsDocumentManagementEnabled": false,
        "IsOneNoteIntegrationEnabled": false, "IsInteractionCentricEnabled": false,
        "IsKnowledgeManagementEnabled": false, "AutoCreateAccessTeams": false, "IsActivity": false,
        "IsActivityParty": false, "IsAuditEnabled": t(false, "canmodifyauditsettings"),
        "IsAvailableOffline": false, "IsChildEntity": false, "IsAIRUpdated": false,
        "IsValidForQueue": t(false, "canmodifyqueuesettings"),
        "IsConnectionsEnabled": t(false, "canmodifyconnectionsettings"),
        "IconLargeName": null, "IconMediumName": null, "IconSmallName": null,
        "IsCustomEntity": custom, "IsBusinessProcessEnabled": false,
        "IsCustomizable": t(true, "iscustomizable"), "IsRenameable": t(true, "isrenameable"),
        "IsMappable": managed(json!(true), false, "ismappable"),
        "IsDuplicateDetectionEnabled": t(false, "canmodifyduplicatedetectionsettings"),
        "CanCreateAttributes": managed(json!(true), false, "cancreateattributes"),
        "CanCreateForms": t(true, "cancreateforms"), "CanCreateViews": t(true, "cancreateviews"),
        "CanCreateCharts": t(true, "cancreatecharts"),
        "CanBeRelatedEntityInRelationship": t(true, "canberelatedentityinrelationship"),
        "CanBePrimaryEntityInRelationship": t(true, "canbeprimaryentityinrelationship"),
        "CanBeInManyToMany": t(true, "canbeinmanytomany"),
        "CanEnableSyncToExternalSearchIndex": t(true, "canenablesynctoexternalsearchindex"),
        "SyncToExternalSearchIndex": false,
        "CanModifyAdditionalSettings": t(true, "canmodifyadditionalsettings"),
        "CanChangeHierarchicalRelationship": t(true, "canchangehierarchicalrelationship"),
        "IsOptimisticConcurrencyEnabled": true,
        "ChangeTrackingEnabled": def.change_tracking,
        "CanChangeTrackingBeEnabled": managed(json!(true), true, "canchangetrackingbeenabled"),
        "IsImportable": true, "IsIntersect": def.is_intersect,
        "IsMailMergeEnabled": t(true, "canmodifymailmergesettings"),
        "IsManaged": !custom, "IsEnabledForCharts": true, "IsEnabledForTrace": false,
        "IsValidForAdvancedFind": !def.is_intersect,
        "IsVisibleInMobile": t(false, "canmodifymobilevisibility"),
        "IsVisibleInMobileClient": t(false, "canmodifymobileclientvisibility"),
        "IsReadOnlyInMobileClient": t(false, "canmodifymobileclientreadonly"),
        "IsOfflineInMobileClient": t(false, "canmodifymobileclientoffline"),
        "DaysSinceRecordLastModified": 0, "IsReadingPaneEnabled": true, "IsQuickCreateEnabled": false,
        "LogicalName": def.logical_name, "ObjectTypeCode": def.object_type_code,
        "OwnershipType": def.ownership, "PrimaryNameAttribute": def.primary_name,
        "PrimaryImageAttribute": def.attr_index("entityimage").map(|_| "entityimage"),
        "PrimaryIdAttribute": def.primary_id, "Privileges": [],
        "RecurrenceBaseEntityLogicalName": null, "ReportViewName": format!("Filtered{}", def.schema_name),
        "SchemaName": def.schema_name, "IntroducedVersion": "1.0", "IsStateModelAware": def.attr_index("statecode").is_some(),
        "EnforceStateTransitions": false, "EntityColor": null,
        "LogicalCollectionName": def.entity_set, "CollectionSchemaName": format!("{}s", def.schema_name),
        "EntitySetName": def.entity_set, "IsEnabledForExternalChannels": false, "IsPrivate": false,
        "IsLogicalEntity": false,
        "MetadataId": def.metadata_id, "HasChanged": null,
    }))
}

/// AttributeMetadata; `cast` adds the properties of the derived type.
pub fn attribute(def: &EntityDef, a: &AttrDef, cast: bool) -> Map<String, Value> {
    let mut m = Map::new();
    if !cast {
        m.insert(
            "@odata.type".into(),
            json!(format!(
                "#Microsoft.Dynamics.CRM.{}",
                a.kind.metadata_type()
            )),
        );
    }
    m.extend(obj(json!({
        "MetadataId": a.metadata_id, "HasChanged": null, "AttributeOf": a.attribute_of,
        "AttributeType": a.kind.wire_type(), "ColumnNumber": a.column_number, "DeprecatedVersion": null,
        "IntroducedVersion": "1.0.0.0", "EntityLogicalName": def.logical_name, "IsCustomAttribute": a.is_custom,
        "IsPrimaryId": a.is_primary_id, "IsValidODataAttribute": a.valid_odata, "IsPrimaryName": a.is_primary_name,
        "IsValidForCreate": !a.is_primary_id && a.logical_name != "versionnumber",
        "IsValidForRead": true, "IsValidForUpdate": !a.is_primary_id && a.logical_name != "versionnumber",
        "CanBeSecuredForRead": true, "CanBeSecuredForCreate": true, "CanBeSecuredForUpdate": true,
        "IsSecured": false, "IsRetrievable": true, "IsFilterable": true, "IsSearchable": true, "IsManaged": !a.is_custom,
        "LinkedAttributeId": null, "LogicalName": a.logical_name, "IsValidForForm": true, "IsRequiredForForm": a.is_primary_name,
        "IsValidForGrid": true, "SchemaName": a.schema_name, "ExternalName": null, "IsLogical": false,
        "IsDataSourceSecret": false, "InheritsFrom": null, "CreatedOn": "2022-08-08T22:19:49Z",
        "ModifiedOn": "2022-08-08T22:19:49Z", "SourceType": 0, "AutoNumberFormat": null,
    })));
    if cast {
        m.extend(specific(a));
    }
    let t = |v: bool, name: &str| managed(json!(v), true, name);
    m.extend(obj(json!({
        "AttributeTypeName": {"Value": a.kind.type_name()},
        "Description": empty_label(),
        "DisplayName": label(&a.display, metadata_id(&["attr-label", &def.logical_name, &a.logical_name])),
        "IsAuditEnabled": t(true, "canmodifyauditsettings"),
        "IsGlobalFilterEnabled": t(false, "canmodifyglobalfiltersettings"),
        "IsSortableEnabled": t(false, "canmodifyissortablesettings"),
        "IsCustomizable": t(true, "iscustomizable"), "IsRenameable": t(true, "isrenameable"),
        "IsValidForAdvancedFind": t(a.valid_odata, "canmodifysearchsettings"),
        "RequiredLevel": managed(json!(if a.is_primary_id { "SystemRequired" } else { "None" }), false, "canmodifyrequirementlevelsettings"),
        "CanModifyAdditionalSettings": t(true, "canmodifyadditionalsettings"),
        "Settings": [],
    })));
    m
}

fn specific(a: &AttrDef) -> Map<String, Value> {
    obj(match a.kind {
        Kind::String => {
            json!({"MaxLength": a.max_length, "Format": "Text", "FormatName": {"Value": "Text"},
            "ImeMode": "Auto", "YomiOf": null, "IsLocalizable": false, "DatabaseLength": a.max_length.map(|n| n * 2),
            "FormulaDefinition": null, "SourceTypeMask": 0})
        }
        Kind::Memo => {
            json!({"Format": "TextArea", "ImeMode": "Auto", "MaxLength": a.max_length, "IsLocalizable": false})
        }
        Kind::Integer => {
            json!({"Format": "None", "MaxValue": 2147483647, "MinValue": -2147483648, "FormulaDefinition": null, "SourceTypeMask": 0})
        }
        Kind::BigInt => json!({"MaxValue": i64::MAX, "MinValue": i64::MIN}),
        Kind::Decimal => {
            json!({"MaxValue": 100000000000i64, "MinValue": -100000000000i64, "Precision": a.precision, "ImeMode": "Auto", "FormulaDefinition": null, "SourceTypeMask": 0})
        }
        Kind::Double => {
            json!({"ImeMode": "Auto", "MaxValue": 100000000000i64, "MinValue": -100000000000i64, "Precision": a.precision})
        }
        Kind::Money => {
            json!({"ImeMode": "Auto", "MaxValue": 922337203685477i64, "MinValue": -922337203685477i64,
            "Precision": a.precision, "PrecisionSource": 2, "CalculationOf": null, "IsBaseCurrency": a.logical_name.ends_with("_base"),
            "FormulaDefinition": null, "SourceTypeMask": 0})
        }
        Kind::DateTime => {
            json!({"Format": if a.date_only { "DateOnly" } else { "DateAndTime" }, "ImeMode": "Auto",
            "MinSupportedValue": "1753-01-01T00:00:00Z", "MaxSupportedValue": "9999-12-30T23:59:59Z",
            "FormulaDefinition": null, "SourceTypeMask": 0,
            "DateTimeBehavior": {"Value": if a.date_only { "DateOnly" } else { "UserLocal" }},
            "CanChangeDateTimeBehavior": managed(json!(false), false, "canchangedatetimebehavior")})
        }
        Kind::Lookup | Kind::Customer | Kind::Owner => {
            json!({"Targets": a.targets, "Format": null})
        }
        Kind::Boolean => {
            json!({"DefaultValue": false, "FormulaDefinition": "", "SourceTypeMask": 0})
        }
        Kind::Picklist | Kind::MultiSelect => {
            json!({"DefaultFormValue": -1, "FormulaDefinition": null, "SourceTypeMask": 0,
            "ParentPicklistLogicalName": null, "ChildPicklistLogicalNames": []})
        }
        Kind::State | Kind::Status => json!({"DefaultFormValue": null}),
        Kind::EntityName => json!({"IsEntityReferenceStored": true}),
        Kind::Image => {
            json!({"IsPrimaryImage": true, "MaxHeight": 144, "MaxWidth": 144, "MaxSizeInKB": 10240, "CanStoreFullImage": true})
        }
        Kind::File => json!({"MaxSizeInKB": 32768}),
        Kind::Uniqueidentifier => json!({}),
    })
}

fn option(o: &OptionDef, set: &OptionSetDef, kind: Kind) -> Value {
    let mut m = obj(json!({
        "Value": o.value,
        "Label": label(&o.label, metadata_id(&["option", &set.name, &o.value.to_string()])),
        "Description": empty_label(), "Color": null, "IsManaged": true, "MetadataId": null, "HasChanged": null,
    }));
    match kind {
        Kind::Status => {
            m.insert("State".into(), json!(o.state));
            m.insert("TransitionData".into(), Value::Null);
        }
        Kind::State => {
            m.insert("DefaultStatus".into(), json!(o.state));
            m.insert("InvariantName".into(), json!(o.label.replace(' ', "")));
        }
        _ => {}
    }
    Value::Object(m)
}

/// OptionSetMetadata (or BooleanOptionSetMetadata with TrueOption/FalseOption).
pub fn option_set(a: &AttrDef, set: Option<&OptionSetDef>) -> Map<String, Value> {
    if a.kind == Kind::Boolean {
        let name = format!("{}_{}", a.schema_name.to_lowercase(), "boolean");
        let yes = OptionDef {
            value: 1,
            label: "Yes".into(),
            state: None,
        };
        let no = OptionDef {
            value: 0,
            label: "No".into(),
            state: None,
        };
        let set = OptionSetDef {
            name: name.clone(),
            metadata_id: metadata_id(&["bool", &name]),
            is_global: false,
            options: vec![],
        };
        return obj(
            json!({"TrueOption": option(&yes, &set, Kind::Boolean), "FalseOption": option(&no, &set, Kind::Boolean),
            "MetadataId": set.metadata_id, "HasChanged": null, "IsCustomOptionSet": false, "IsGlobal": false,
            "IsManaged": true, "Name": name, "OptionSetType": "Boolean"}),
        );
    }
    let Some(set) = set else { return Map::new() };
    let kind_name = match a.kind {
        Kind::State => "State",
        Kind::Status => "Status",
        _ => "Picklist",
    };
    obj(json!({
        "Options": set.options.iter().map(|o| option(o, set, a.kind)).collect::<Vec<_>>(),
        "MetadataId": set.metadata_id, "HasChanged": null, "IsCustomOptionSet": set.is_global,
        "IsGlobal": set.is_global, "IsManaged": !set.is_global, "Name": set.name, "OptionSetType": kind_name,
        "DisplayName": label(&set.name, metadata_id(&["optionset-label", &set.name])),
    }))
}

pub fn global_option_set(set: &OptionSetDef) -> Map<String, Value> {
    let a = crate::schema::catalog::attr(
        &set.name,
        &set.name,
        Kind::Picklist,
        crate::generate::Gen::Null,
    );
    let mut m = obj(json!({"@odata.type": "#Microsoft.Dynamics.CRM.OptionSetMetadata"}));
    m.extend(option_set(&a, Some(set)));
    m
}

pub fn many_to_many(r: &ManyToMany, cast: bool) -> Map<String, Value> {
    let mut m = Map::new();
    if !cast {
        m.insert(
            "@odata.type".into(),
            json!("#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"),
        );
    }
    m.extend(obj(json!({
        "MetadataId": r.metadata_id, "HasChanged": null, "SchemaName": r.schema_name,
        "IsCustomRelationship": r.is_custom, "IsValidForAdvancedFind": true, "IsManaged": !r.is_custom,
        "RelationshipType": "ManyToManyRelationship", "SecurityTypes": "None",
        "Entity1LogicalName": r.entity1, "Entity2LogicalName": r.entity2, "IntersectEntityName": r.intersect,
        "Entity1IntersectAttribute": r.entity1_attr, "Entity2IntersectAttribute": r.entity2_attr,
        "Entity1NavigationPropertyName": r.entity1_nav, "Entity2NavigationPropertyName": r.entity2_nav,
    })));
    m
}

/// The 1:N relationship behind lookup `a` of `def` (one per target).
pub fn one_to_many(def: &EntityDef, a: &AttrDef, target: &str, cast: bool) -> Map<String, Value> {
    let schema = format!("{}_{}_{}", target, def.logical_name, a.logical_name);
    let mut m = Map::new();
    if !cast {
        m.insert(
            "@odata.type".into(),
            json!("#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"),
        );
    }
    // An owner keeps one navigation property, `ownerid`, leading to `principal`.
    let nav = if a.targets.len() > 1 && a.kind != Kind::Owner {
        format!("{}_{target}", a.logical_name)
    } else {
        a.logical_name.clone()
    };
    m.extend(obj(json!({
        "MetadataId": metadata_id(&["one-to-many", &schema]), "HasChanged": null, "SchemaName": schema,
        "IsCustomRelationship": a.is_custom, "IsValidForAdvancedFind": true, "IsManaged": !a.is_custom,
        "RelationshipType": "OneToManyRelationship", "SecurityTypes": "None",
        "ReferencedAttribute": format!("{target}id"), "ReferencedEntity": target,
        "ReferencingAttribute": a.logical_name, "ReferencingEntity": def.logical_name,
        "ReferencedEntityNavigationPropertyName": schema, "ReferencingEntityNavigationPropertyName": nav,
        "CascadeConfiguration": {"Assign": "NoCascade", "Delete": "RemoveLink", "Merge": "NoCascade",
            "Reparent": "NoCascade", "Share": "NoCascade", "Unshare": "NoCascade"},
    })));
    m
}
