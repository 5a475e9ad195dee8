//! The browser pages as HTTP sees them: GraphiQL and the REST reference, their
//! content security policy, and every asset they name served by Gatehouse.
//! (tests/browser/playground.py drives them in a real browser.)

use reqwest::StatusCode;

use crate::helpers::{TestApp, html_page, problem, spawn_app};

/// The `src` and `href` values of a page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_owned());
            }
        }
    }
    found
}

async fn check_page(app: &TestApp, path: &str, title: &str) {
    let (headers, html) = html_page(app.get(path).await).await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{path}: {csp}");
    }
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("http"),
        "{csp}"
    );
    assert!(html.contains(title), "{path}");
    assert!(!html.contains("<script>"), "{path}: an inline script");
    let references = references(&html);
    assert!(!references.is_empty());
    for reference in references {
        if reference.starts_with("data:") {
            continue;
        }
        assert!(
            reference.starts_with("/assets/"),
            "{path} loads {reference}"
        );
        let asset = app.get(&reference).await;
        assert_eq!(asset.status(), StatusCode::OK, "{reference}");
        let kind = asset.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            kind.contains("javascript") || kind.starts_with("text/css"),
            "{reference}: {kind}"
        );
        assert!(
            asset.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
}

#[tokio::test]
async fn graphiql_and_the_rest_reference_are_served_with_their_assets() {
    let app = spawn_app().await;
    check_page(&app, "/graphql", "Gatehouse · GraphiQL").await;
    check_page(&app, "/docs", "Gatehouse · REST API").await;
    let licences = app.get("/assets/THIRD_PARTY_LICENSES.txt").await;
    assert_eq!(licences.status(), StatusCode::OK);
    // Its name has no content hash: revalidated, never cached for good.
    assert_eq!(licences.headers()["cache-control"], "no-cache");
    let text = licences.text().await.unwrap();
    for package in [
        "graphiql 5.4.0",
        "react 19.3.1",
        "@scalar/api-reference 1.72.1",
    ] {
        assert!(text.contains(package), "{package} has no licence entry");
    }
}

#[tokio::test]
async fn unknown_assets_are_404_problems() {
    let app = spawn_app().await;
    for path in [
        "/assets/nothing.js",
        "/assets/../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/",
    ] {
        let response = app.get(path).await;
        problem(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}
