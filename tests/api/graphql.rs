use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_method_not_allowed, gql_code, html_page, problem, spawn_app, spawn_app_with,
};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { id username email dateJoined lastLogin isLoggedIn } }";
const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token tokenType expiresAt user { id username lastLogin isLoggedIn } } }";
const LOGOUT: &str = "mutation($id: ID!) { logout(userId: $id) { userId sessionsRevoked } }";

#[tokio::test]
async fn register_login_me_logout_over_graphql() {
    let app = spawn_app().await;
    let input =
        json!({"input": {"username": "alice", "email": "alice@example.com", "password": PASSWORD}});
    let (status, body) = app.graphql(REGISTER, input, None).await;
    assert_eq!(status, StatusCode::OK);
    let user = &body["data"]["register"];
    assert_eq!(user["username"], "alice");
    assert_eq!(user["isLoggedIn"], false);
    assert!(user["lastLogin"].is_null());
    let id = user["id"].as_str().unwrap().to_owned();

    let (_, body) = app
        .graphql(
            LOGIN,
            json!({"input": {"username": "ALICE", "password": PASSWORD}}),
            None,
        )
        .await;
    let login = &body["data"]["login"];
    assert_eq!(login["tokenType"], "Bearer");
    assert_eq!(login["user"]["id"], id.as_str());
    assert_eq!(login["user"]["isLoggedIn"], true);
    let token = login["token"].as_str().unwrap().to_owned();

    let me = app.me(&token).await;
    assert_eq!(me["id"], id.as_str());

    let (_, body) = app.graphql(LOGOUT, json!({"id": id}), Some(&token)).await;
    assert_eq!(
        body["data"]["logout"],
        json!({"userId": id, "sessionsRevoked": 1})
    );
    assert!(app.me(&token).await.is_null());
}

#[tokio::test]
async fn errors_carry_the_codes_of_the_spec() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let cases = [
        (
            REGISTER,
            json!({"input": {"username": "alice", "email": "x@example.com", "password": PASSWORD}}),
            "USERNAME_TAKEN",
        ),
        (
            REGISTER,
            json!({"input": {"username": "bob", "email": "ALICE@example.com", "password": PASSWORD}}),
            "EMAIL_TAKEN",
        ),
        (
            REGISTER,
            json!({"input": {"username": "", "email": "bad", "password": "x"}}),
            "VALIDATION_FAILED",
        ),
        (
            LOGIN,
            json!({"input": {"username": "nobody", "password": PASSWORD}}),
            "USER_NOT_FOUND",
        ),
        (
            LOGIN,
            json!({"input": {"username": "alice", "password": "wrong-one"}}),
            "INVALID_PASSWORD",
        ),
        (LOGOUT, json!({"id": "x"}), "UNAUTHENTICATED"),
        (
            REGISTER,
            json!({"input": {"username": "bob"}}),
            "BAD_REQUEST",
        ),
        ("{ me { nope } }", json!({}), "BAD_REQUEST"),
        ("{ me { id ", json!({}), "BAD_REQUEST"),
    ];
    for (query, variables, code) in cases {
        let (status, body) = app.graphql(query, variables.clone(), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(gql_code(&body), code, "{variables} -> {body}");
    }
    let (_, body) = app
        .graphql(
            REGISTER,
            json!({"input": {"username": "", "email": "bad", "password": "x"}}),
            None,
        )
        .await;
    let fields = &body["errors"][0]["extensions"]["fields"];
    assert_eq!(fields["username"], json!(["This field may not be blank."]));
    assert_eq!(fields["email"], json!(["Enter a valid email address."]));
    assert!(
        fields["password"][0]
            .as_str()
            .unwrap()
            .contains("too short")
    );
}

#[tokio::test]
async fn logout_of_someone_else_is_invalid_user_id() {
    let app = spawn_app().await;
    app.register_ok("alice").await;
    let bob = app.register_ok("bob").await;
    let (token, _) = app.login_ok("alice").await;
    let (_, body) = app.graphql(LOGOUT, json!({"id": bob}), Some(&token)).await;
    assert_eq!(gql_code(&body), "INVALID_USER_ID");
}

#[tokio::test]
async fn rest_and_graphql_share_accounts_and_codes() {
    let app = spawn_app().await;
    // Registered over REST, logged in over GraphQL.
    app.register_ok("alice").await;
    let (_, body) = app
        .graphql(
            LOGIN,
            json!({"input": {"username": "alice", "password": PASSWORD}}),
            None,
        )
        .await;
    let token = body["data"]["login"]["token"].as_str().unwrap().to_owned();
    // Registered over GraphQL, logged in over REST; the GraphQL token logs out over REST.
    let input =
        json!({"input": {"username": "bob", "email": "bob@example.com", "password": PASSWORD}});
    let (_, body) = app.graphql(REGISTER, input, None).await;
    assert!(body["errors"].is_null(), "{body}");
    app.login_ok("bob").await;
    let alice_id = app.me(&token).await["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.logout(&alice_id, Some(&token)).await.status(),
        StatusCode::OK
    );
    // The same failure has the same code on both.
    let rest = app.login("alice", "wrong-one").await;
    let rest: Value = rest.json().await.unwrap();
    let (_, gql) = app
        .graphql(
            LOGIN,
            json!({"input": {"username": "alice", "password": "wrong-one"}}),
            None,
        )
        .await;
    assert_eq!(rest["code"], gql_code(&gql));
}

#[tokio::test]
async fn mutations_are_never_run_over_get() {
    let app = spawn_app().await;
    let query = "mutation { register(input: {username: \"eve\", email: \"eve@example.com\", password: \"Vq7#kPz!rw\"}) { id } }";
    assert_method_not_allowed(app.graphql_get(query).await, &["GET", "POST"]).await;
    assert_eq!(
        app.login("eve", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST,
        "nothing was registered"
    );
    // Queries over GET are fine.
    let response = app.graphql_get("{ me { id } }").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"data": {"me": null}}));
}

#[tokio::test]
async fn the_playground_is_served_and_can_be_switched_off() {
    let app = spawn_app().await;
    let (_, page) = html_page(app.get("/graphql").await).await;
    assert!(page.contains("graphiql"));
    let app = spawn_app_with(&[
        "--graphql-playground",
        "false",
        "--graphql-introspection",
        "false",
    ])
    .await;
    let response = app.get("/graphql").await;
    problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let (_, body) = app
        .graphql("{ __schema { types { name } } }", json!({}), None)
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection is off: {body}"
    );
}

#[tokio::test]
async fn depth_complexity_and_batch_limits_hold() {
    let app = spawn_app_with(&["--graphql-max-depth", "2", "--graphql-max-complexity", "5"]).await;
    // Introspection has a bound of its own (tests/api/introspection.rs).
    let deep = r#"mutation { login(input: {username: "a", password: "b"}) { user { id } } }"#;
    let (_, body) = app.graphql(deep, json!({}), None).await;
    assert_eq!(gql_code(&body), "BAD_REQUEST", "{body}");
    let wide = "{ a: me { id } b: me { id } c: me { id } d: me { id } }";
    let (_, body) = app.graphql(wide, json!({}), None).await;
    assert_eq!(gql_code(&body), "BAD_REQUEST", "{body}");
    // Parser nesting far past any limit is refused, not a crash.
    let nested = format!("{}{}", "{ me ".repeat(2000), "}".repeat(2000));
    let (_, body) = app.graphql(&nested, json!({}), None).await;
    assert_eq!(gql_code(&body), "BAD_REQUEST");
    let batch: Vec<Value> = (0..11).map(|_| json!({"query": "{ me { id } }"})).collect();
    let (status, _) = app.graphql_batch(&batch).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = app.graphql_batch(&batch[..2]).await;
    assert_eq!(
        body,
        json!([{"data": {"me": null}}, {"data": {"me": null}}])
    );
}

#[tokio::test]
async fn requests_that_are_not_graphql_get_problem_details() {
    let app = spawn_app().await;
    let post =
        |content_type: &'static str, body: String| app.post_raw("/graphql", content_type, body);
    let response = post("application/json", "{not json".into()).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let response = post("application/json", "42".into()).await;
    problem(response, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let response = post("text/plain", "{ me { id } }".into()).await;
    problem(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let huge = json!({"query": format!("{{ me {{ id }} }} #{}", "x".repeat(17_000))}).to_string();
    let response = post("application/json", huge).await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // A query string is held to the body limit…
    let small = spawn_app_with(&["--body-limit", "8192"]).await;
    let long_get = format!("{{ me {{ id }} }} #{}", "x".repeat(10_000));
    let response = small.graphql_get(&long_get).await;
    problem(response, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    // …and past the head limit hyper refuses the request before routing.
    let longer_get = format!("{{ me {{ id }} }} #{}", "x".repeat(17_000));
    let response = app.graphql_get(&longer_get).await;
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    // A well-formed request still works afterwards.
    let (status, body) = app.graphql("{ me { id } }", json!({}), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": {"me": null}}));
}

#[tokio::test]
async fn graphql_over_http_media_type_and_status_codes() {
    let app = spawn_app().await;
    let send = |query: &str, accept: &str| {
        app.client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let modern = "application/graphql-response+json, application/json;q=0.9";
    let response = send("{ me { id } }", modern).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/graphql-response+json")
    );
    // Unparsable: 400; parses but fails validation: 422.
    let response = send("{ me { id ", modern).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(gql_code(&body), "BAD_REQUEST");
    let response = send("{ me { nope } }", modern).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A field error is still a 200 GraphQL response.
    let response = send(
        "mutation { login(input: {username: \"nobody\", password: \"whatever1\"}) { token } }",
        modern,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(gql_code(&body), "USER_NOT_FOUND");
    // Older clients keep application/json and 200.
    let response = send("{ me { nope } }", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
}
