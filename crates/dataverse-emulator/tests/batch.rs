//! `$batch` with GET parts.

use crate::support::env;

#[tokio::test]
async fn batch_answers_each_get() {
    let env = env().await;
    let api = env.emu.api_url();
    let body = format!(
        "--batch_AAA\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET {api}/WhoAmI HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n\
--batch_AAA\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET {api}/EntityDefinitions(LogicalName='account')?$select=LogicalName HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n\
--batch_AAA\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET /api/data/v9.2/contacts(00000000-0000-0000-0000-000000000009) HTTP/1.1\r\n\r\n\r\n\
--batch_AAA--\r\n"
    );
    let req = env
        .http
        .post(env.url("$batch"))
        .header("Content-Type", "multipart/mixed;boundary=batch_AAA")
        .body(body);
    let r = env.send(req).await;
    assert_eq!(r.status, 200);
    let ct = r.headers["content-type"].to_str().expect("ct");
    let boundary = ct.split("boundary=").nth(1).expect("boundary");
    assert!(boundary.starts_with("batchresponse_"), "{ct}");
    let parts: Vec<&str> = r.text.split(&format!("--{boundary}")).collect();
    assert_eq!(parts.len(), 5, "three parts plus preamble and closing");
    assert!(parts[1].contains("HTTP/1.1 200 OK") && parts[1].contains("WhoAmIResponse"));
    assert!(parts[2].contains("\"LogicalName\":\"account\""));
    assert!(parts[3].contains("HTTP/1.1 404"));
}
