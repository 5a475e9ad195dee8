//! The browser pages: GraphiQL on `GET /graphql` and the REST reference on
//! `GET /docs`, with every script, style sheet, font and worker they load
//! compiled into the binary from `src/http/assets/dist` (built from pinned
//! npm packages; see `src/http/assets/README.md`). Nothing is fetched from
//! another origin, so both work on a network with no route outside.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

use super::problem::Problem;
use crate::error::ErrorCode;

#[derive(RustEmbed)]
#[folder = "src/http/assets/dist/"]
struct Dist;

/// Only same-origin scripts, styles, fonts, workers and requests. Inline
/// styles are allowed because GraphiQL's editor (Monaco) and Scalar set
/// element styles from script; inline scripts are not.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'; object-src 'none'";

/// The GraphiQL page.
pub fn graphiql() -> Response {
    page("graphiql.html")
}

/// `GET /docs`: the REST API reference (Scalar), reading `/openapi.json`.
pub async fn docs() -> Response {
    page("docs.html")
}

/// The one file in `dist/assets/` whose name has no content hash.
const LICENCES: &str = "THIRD_PARTY_LICENSES.txt";

/// `GET /assets/{file}`: a built asset. Their names carry a content hash, so
/// they may be cached for good; the licence list is revalidated.
pub async fn asset(Path(name): Path<String>) -> Response {
    let cache_control = if name == LICENCES {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    match Dist::get(&format!("assets/{name}")) {
        Some(file) => with_headers(file, cache_control),
        None => Problem::new(ErrorCode::NotFound, "There is nothing at this path.").into_response(),
    }
}

fn page(name: &str) -> Response {
    match Dist::get(name) {
        // Pages name the assets of this build: revalidate them.
        Some(file) => with_headers(file, "no-cache"),
        None => {
            // `Dist` is compiled in and these names are fixed; a missing page
            // is a broken build, not a client error.
            tracing::error!(page = name, "page missing from the embedded assets");
            Problem::new(ErrorCode::Internal, "Internal server error.").into_response()
        }
    }
}

fn with_headers(file: EmbeddedFile, cache_control: &'static str) -> Response {
    let mut content_type = file.metadata.mimetype().to_owned();
    if content_type.starts_with("text/") && !content_type.contains("charset") {
        content_type.push_str("; charset=utf-8");
    }
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    // Compiled-in files are borrowed for the life of the program: no copy.
    let body = match file.data {
        Cow::Borrowed(bytes) => Body::from(Bytes::from_static(bytes)),
        Cow::Owned(bytes) => Body::from(bytes),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::ETAG, etag),
        (header::CACHE_CONTROL, cache_control.to_owned()),
        (
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY.to_owned(),
        ),
        (header::REFERRER_POLICY, "no-referrer".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}
