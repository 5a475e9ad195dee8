"""The playground and the API reference in a real browser, with no network.

Starts a Gatehouse binary on a loopback port with a fresh SQLite file, drives
Debian's Chromium (headless, through Playwright's Python client; never a
browser Playwright downloads) with every host but loopback blocked, and checks:

  a. GET /graphql renders GraphiQL, and its documentation explorer lists
     register, login, logout and me;
  b. a register and then a login mutation typed into the editor and run show
     the new token in the result pane;
  c. GET /docs renders the REST reference with its three operations.

Each check also fails on a request to another host, a content-security-policy
violation or an uncaught page error. A failed check leaves a screenshot, whose
path is printed.

    python3 tests/browser/playground.py --binary target/debug/gatehouse

The last line has the shape of cargo's test summary, so CI counts it.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium as root in a container, with nothing of its own reaching out.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    # Names other than localhost resolve to nothing, whatever a page asks.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
PASSWORD = "Vq7#kPz!rw"
TIMEOUT_MS = 30_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Gatehouse process on a fresh SQLite file."""

    def __init__(self, binary, workdir):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(workdir, "server.log"), "w")
        self.process = subprocess.Popen(
            [
                binary, "serve",
                "--bind", f"127.0.0.1:{self.port}",
                "--database-url", f"sqlite://{workdir}/browser.db?mode=rwc",
                "--argon2-memory-kib", "1024", "--argon2-iterations", "1",
                "--rate-limit", "off", "--log-level", "warn",
            ],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the server did not start; see server.log")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


class Watch:
    """What a page did that it must not: reach another host, break the CSP,
    throw."""

    def __init__(self, context):
        self.external, self.csp, self.errors = [], [], []
        context.route("**/*", self._route)
        # Init scripts are injected by the browser, outside the page's CSP.
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', e =>"
            " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
        )

    def _route(self, route):
        host = urllib.parse.urlsplit(route.request.url).hostname or ""
        scheme = urllib.parse.urlsplit(route.request.url).scheme
        if scheme in ("data", "blob") or host in LOOPBACK:
            route.continue_()
        else:
            self.external.append(route.request.url)
            route.abort("blockedbyclient")

    def attach(self, page):
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.errors.append(f"page error: {err}"))

    def _console(self, message):
        if message.type == "error" and "CSP violation" in message.text:
            self.csp.append(message.text)

    def check(self):
        problems = []
        if self.external:
            problems.append(f"requests to other hosts: {sorted(set(self.external))}")
        if self.csp:
            problems.append(f"CSP violations: {self.csp}")
        if self.errors:
            problems.append(f"uncaught errors: {self.errors}")
        assert not problems, "; ".join(problems)


def response_text(page):
    """The text of GraphiQL's result pane (Monaco renders spaces as no-break
    spaces)."""
    return page.locator(".graphiql-response").inner_text().replace("\u00a0", " ")


def wait_for_response(page, pattern):
    """Waits until the result pane shows text matching `pattern`; returns it."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        text = response_text(page)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"the result pane never matched {pattern!r}: {text!r}")
        time.sleep(0.1)


def replace_editor_text(page, editor, text):
    editor.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    # insert_text does not type key by key, so Monaco's auto-closing of
    # brackets and quotes does not double them.
    page.keyboard.insert_text(text)


def run_in_graphiql(page, document):
    """Replaces the query editor's text with `document` and runs it."""
    replace_editor_text(page, page.locator(".graphiql-query-editor .monaco-editor").first, document)
    # GraphiQL drops a run silently until its result pane's editor exists
    # (it mounts after the query editor, once Monaco's JSON mode has loaded).
    page.locator(".graphiql-response .monaco-editor").first.wait_for()
    # GraphiQL parses the editor's text 100 ms after a change. Until then it
    # still counts the welcome text's four operations, and the run button is
    # a menu to pick one (aria-haspopup) that runs nothing when clicked.
    page.locator(".graphiql-execute-button:not([aria-haspopup])").wait_for()
    page.locator(".graphiql-execute-button").click()


def check_graphiql_docs(page, server, shots):
    page.goto(server.base + "/graphql")
    page.locator(".graphiql-container").wait_for()
    page.locator(".graphiql-query-editor .monaco-editor").first.wait_for()
    page.get_by_role("button", name=re.compile("Documentation Explorer", re.I)).first.click()
    explorer = page.locator(".graphiql-doc-explorer")
    # The root lists Query and Mutation once introspection has answered.
    explorer.get_by_text("Query", exact=True).first.click()
    explorer.get_by_text("me", exact=True).first.wait_for()
    explorer.locator(".graphiql-doc-explorer-back").first.click()
    explorer.get_by_text("Mutation", exact=True).first.click()
    for field in ("register", "login", "logout"):
        explorer.get_by_text(field, exact=True).first.wait_for()
    page.screenshot(path=os.path.join(shots, "graphiql-docs.png"))


def check_graphiql_login(page, server, shots):
    # GraphiQL runs nothing until its introspection has answered.
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/graphql")
    ):
        page.goto(server.base + "/graphql")
    # GraphiQL restores its tab (the welcome text) after the editor appears;
    # text typed before that would be replaced.
    page.locator(".graphiql-query-editor").get_by_text("Welcome to Gatehouse").first.wait_for()
    register = (
        'mutation { register(input: {username: "browser", email: "browser@example.com", '
        f'password: "{PASSWORD}"}}) {{ id username }} }}'
    )
    run_in_graphiql(page, register)
    wait_for_response(page, r'"username": "browser"')
    login = (
        f'mutation {{ login(input: {{username: "browser", password: "{PASSWORD}"}}) '
        "{ token tokenType expiresAt } }"
    )
    run_in_graphiql(page, login)
    result = wait_for_response(page, r'"token":\s*"gat_')
    match = re.search(r'"token":\s*"(gat_[A-Za-z0-9_-]{48})"', result)
    assert match, f"no whole token in the result pane: {result!r}"
    page.screenshot(path=os.path.join(shots, "graphiql-login.png"))
    # The token works: `me` through the Headers tab, as README tells users.
    page.get_by_text("Headers", exact=True).first.click()
    headers = page.locator(".graphiql-editor-tool .monaco-editor").last
    headers.wait_for()
    replace_editor_text(page, headers, json.dumps({"Authorization": f"Bearer {match.group(1)}"}))
    run_in_graphiql(page, "{ me { username isLoggedIn } }")
    wait_for_response(page, r'"username": "browser",\s*"isLoggedIn": true')
    page.screenshot(path=os.path.join(shots, "graphiql-me.png"))
    # The token was sent, and GraphiQL's history now holds that run; the
    # browser's storage must hold neither the token nor the header.
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "graphiql:queries" in stored, f"GraphiQL's history was not saved: {stored[:300]!r}"
    for secret in (match.group(1), "Bearer", "Authorization"):
        assert secret not in stored, f"localStorage holds {secret!r}: {stored[:300]!r}"


def check_docs(page, server, shots):
    page.goto(server.base + "/docs")
    for operation in ("Register an account", "Log in", "Log out"):
        page.get_by_text(operation).first.wait_for()
    page.screenshot(path=os.path.join(shots, "docs.png"))


CHECKS = [
    ("graphiql renders and documents register, login, logout and me", check_graphiql_docs),
    ("graphiql runs register then login and shows the token", check_graphiql_login),
    ("docs renders the three REST operations", check_docs),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--screenshots", default=None,
                        help="where screenshots go (default: a new temporary directory)")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="gatehouse-browser-")
    shots = args.screenshots or os.path.join(workdir, "screenshots")
    os.makedirs(shots, exist_ok=True)
    passed = failed = 0
    server = Server(os.path.abspath(args.binary), workdir)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, check in CHECKS:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.set_default_timeout(TIMEOUT_MS)
                watch = Watch(context)
                page = context.new_page()
                watch.attach(page)
                started = time.monotonic()
                try:
                    check(page, server, shots)
                    watch.check()
                    passed += 1
                    print(f"test browser::{check.__name__} ... ok ({time.monotonic() - started:.1f} s)")
                except Exception:
                    failed += 1
                    shot = os.path.join(shots, f"{check.__name__}-failed.png")
                    try:
                        page.screenshot(path=shot, full_page=True)
                    except Exception:
                        shot = "(no screenshot: the page was gone)"
                    print(f"test browser::{check.__name__} ... FAILED: {name}")
                    traceback.print_exc(limit=3)
                    print(f"screenshot: {shot}")
                finally:
                    context.close()
            browser.close()
    finally:
        server.stop()
    if failed:
        print(f"server log: {os.path.join(workdir, 'server.log')}")
    print(f"screenshots: {shots}")
    status = "ok" if failed == 0 else "FAILED"
    print(f"test result: {status}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out")
    if not failed and not args.screenshots:
        shutil.rmtree(os.path.join(workdir, "browser.db"), ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
