//! The OpenAPI document: served, well-formed, and complete for the REST table.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{html_page, spawn_app};

#[tokio::test]
async fn every_rest_route_and_status_is_documented() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for route in gatehouse::http::rest::ROUTES {
        let documented = format!("{}/", route.path);
        let operation = &paths
            .get(&documented)
            .unwrap_or_else(|| panic!("{documented} is not in /openapi.json"))["post"];
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.contains_key(route.success.as_str()),
            "{documented}: success status"
        );
        // Every code the route declares is named under some status.
        for code in route.doc.errors {
            assert!(
                responses
                    .values()
                    .any(|r| r["description"].as_str().unwrap().contains(code.as_str())),
                "{documented}: {code}"
            );
        }
        if route.doc.bearer {
            assert!(
                operation["security"][0].get("bearer").is_some(),
                "{documented}: bearer"
            );
            assert!(
                responses["401"]["headers"]
                    .get("WWW-Authenticate")
                    .is_some()
            );
        }
        for status in ["400", "408", "413", "415", "503"] {
            assert!(responses.contains_key(status), "{documented}: {status}");
            let problem =
                &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(
                problem, "#/components/schemas/Problem",
                "{documented}: {status}"
            );
        }
    }
    assert_eq!(
        paths.len(),
        gatehouse::http::rest::ROUTES.len(),
        "no undocumented extras"
    );
    let problem = &document["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code", "errors"] {
        assert!(problem.get(field).is_some(), "Problem.{field}");
    }
    // Every $ref points at a schema that exists.
    let text = document.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
}

#[tokio::test]
async fn the_reference_page_is_served() {
    let app = spawn_app().await;
    let (_, page) = html_page(app.get("/docs").await).await;
    // The page is Scalar, compiled in; its script reads /openapi.json
    // (tests/api/pages.rs checks its assets, the browser test what it shows).
    assert!(page.contains("Gatehouse · REST API"));
}
