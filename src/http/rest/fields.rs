//! A REST body as the route's fields: JSON or a form, by `Content-Type`, as
//! Django REST Framework reads them.

use axum::http::HeaderMap;
use serde_json::{Map, Value};

use super::super::body::MediaType;
use crate::domain::messages;
use crate::error::{Error, FieldErrors};

/// Decodes a REST body as the handlers do: by its `Content-Type`, into the
/// route's required string fields. Public for the fuzz targets.
pub fn decode_body(
    headers: &HeaderMap,
    bytes: &[u8],
    fields: &[&str],
) -> Result<Map<String, Value>, Error> {
    let decoded = decode_fields(MediaType::of(headers), bytes)?;
    required_strings(fields, &decoded)
}

/// The body as a field map. JSON must be an object; a form's repeated key
/// keeps its last value, as Django's `QueryDict` does. An empty body is an
/// empty map whatever its type, so its fields are reported as missing.
pub(super) fn decode_fields(
    media_type: MediaType,
    bytes: &[u8],
) -> Result<Map<String, Value>, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match media_type {
        MediaType::Json | MediaType::Unspecified => match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Error::BadRequest("The JSON body must be an object.".into())),
            Err(err) => Err(Error::BadRequest(format!(
                "The body is not valid JSON (line {}, column {}).",
                err.line(),
                err.column()
            ))),
        },
        MediaType::Form => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
                .map_err(|_| Error::BadRequest("The form body is malformed.".into()))?;
            Ok(pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect())
        }
        MediaType::Other => Err(Error::UnsupportedMediaType),
    }
}

/// Picks the required fields as strings. Like Django REST Framework's
/// `CharField`, a number is taken as its text; a missing, null, boolean, list
/// or object value is a validation error naming the field.
pub(super) fn required_strings(
    names: &[&str],
    fields: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let mut input = Map::new();
    let mut errors = FieldErrors::new();
    for &name in names {
        let message = match fields.get(name) {
            Some(Value::String(s)) => {
                input.insert(name.into(), Value::String(s.clone()));
                continue;
            }
            Some(Value::Number(n)) => {
                input.insert(name.into(), Value::String(n.to_string()));
                continue;
            }
            None => messages::REQUIRED,
            Some(Value::Null) => messages::NULL,
            Some(_) => messages::NOT_A_STRING,
        };
        errors.insert(name.into(), vec![message.into()]);
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(Error::Validation(errors))
    }
}
