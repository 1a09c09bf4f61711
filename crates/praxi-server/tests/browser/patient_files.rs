//! Patient notes and documents over HTTP with a page session (#15 item 6c): a note is saved
//! with its author; an upload is checked by content and size, stored, listed and downloaded
//! as an audited attachment; billing sees neither.

use praxi_domain::Role;

use crate::fixtures::Practice;
use crate::helpers::TestApp;

async fn session(app: &TestApp, user: &praxi_store::users::UserRecord) -> (String, String) {
    let (key, csrf) = praxi_server::web::session::start_session(&app.state, user.id)
        .await
        .expect("session");
    (format!("praxi_session={key}"), csrf)
}

fn multipart(csrf: &str, title: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----praxiTest7";
    let mut body = Vec::new();
    for (name, value) in [
        ("csrf_token", csrf),
        ("title", title),
        ("doc_type", "report"),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../x.html\"\r\nContent-Type: text/html\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn notes_and_documents_are_saved_checked_and_downloaded_as_attachments() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().to_path_buf();
    let app = TestApp::spawn_with(move |config| config.document_dir = path).await;
    let _practice = Practice::new(&app).await;
    let assistant = app.create_user("assist", Some(Role::Assistant)).await;
    let (cookie, csrf) = session(&app, &assistant).await;

    let res = app
        .http
        .post(app.url("/patients/1/notes/"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("content", "Rückruf <script>x</script>"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"],
        "/patients/1/?ok=note_added#notes"
    );

    let upload = |title: &'static str, file: Vec<u8>| {
        let (content_type, body) = multipart(&csrf, title, &file);
        app.http
            .post(app.url("/patients/1/documents/"))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let res = upload("Befund", b"%PDF-1.4 test".to_vec())
        .await
        .expect("post");
    assert_eq!(
        res.headers()["location"],
        "/patients/1/?ok=document_added#documents"
    );
    let res = upload("Seite", b"MZ\x90\0\x03".to_vec())
        .await
        .expect("post");
    assert_eq!(
        res.headers()["location"],
        "/patients/1/?error=file_type#documents"
    );
    let mut big = b"%PDF-".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b'a');
    let res = upload("Gross", big).await.expect("post");
    assert_eq!(
        res.headers()["location"],
        "/patients/1/?error=file_too_large#documents"
    );

    let page = app
        .http
        .get(app.url("/patients/1/?ok=note_added"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("Rückruf &#60;script&#62;x&#60;/script&#62;") && !page.contains("<script>x"),
        "{page}"
    );
    assert!(page.contains("Die Notiz wurde gespeichert."));
    let documents = app.store().patient_documents(1).await.expect("documents");
    assert_eq!(documents.len(), 1);
    let stored = documents[0].file.clone().expect("file");
    assert!(
        stored.ends_with(".pdf") && !stored.contains(".."),
        "{stored}"
    );
    let href = format!("/patients/1/documents/{}/", documents[0].id);
    assert!(page.contains(&href));

    let res = app
        .http
        .get(app.url(&href))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap_or("")
            .starts_with("attachment;")
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.expect("body").as_ref(), b"%PDF-1.4 test");
    // Another patient's path does not reach the document; no session, no file.
    let res = app
        .http
        .get(app.url(&format!("/patients/2/documents/{}/", documents[0].id)))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 404);
    let res = app.http.get(app.url(&href)).send().await.expect("get");
    assert_ne!(res.status().as_u16(), 200);
    for action in [
        "patient_note_create",
        "patient_document_upload",
        "patient_document_download",
    ] {
        let rows = app
            .store()
            .audit_log(Some(action), 10)
            .await
            .expect("audit");
        assert_eq!(rows.len(), 1, "{action}");
    }

    // Billing: neither section, no writes, no downloads.
    let billing = app.create_user("billing", Some(Role::Billing)).await;
    let (cookie, csrf) = session(&app, &billing).await;
    let page = app
        .http
        .get(app.url("/patients/1/"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(!page.contains("id=\"notes\""));
    let res = app
        .http
        .post(app.url("/patients/1/notes/"))
        .header("cookie", &cookie)
        .form(&[("csrf_token", csrf.as_str()), ("content", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 403);
    let res = app
        .http
        .get(app.url(&href))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 403);
    app.stop().await;
}
