// GraphiQL for Gatehouse, with Monaco's workers bundled beside it so the
// page needs nothing from another origin.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './graphiql.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// The page is served on the endpoint itself (GET /graphql), so its own path
// is the endpoint, behind a path-prefixing proxy too.
const fetcher = createGraphiQLFetcher({ url: window.location.pathname });

const defaultQuery = `# Welcome to Gatehouse.
#
# 1. Run Register, then Login (the ▶ button runs the operation under the cursor).
# 2. Copy the token from the result into the Headers tab below, as
#      { "Authorization": "Bearer gat_…" }
# 3. Run Me, or Logout with your user id.
#
# Headers are kept for this tab only, never written to the browser's storage.

mutation Register {
  register(input: {username: "alice", email: "alice@example.com", password: "Vq7#kPz!rw"}) {
    id
    username
  }
}

mutation Login {
  login(input: {username: "alice", password: "Vq7#kPz!rw"}) {
    token
    expiresAt
    user { id }
  }
}

query Me {
  me { id username isLoggedIn }
}

mutation Logout($userId: ID!) {
  logout(userId: $userId) { userId sessionsRevoked }
}
`;

createRoot(document.getElementById('graphiql')).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={defaultQuery}
      shouldPersistHeaders={false}
      showPersistHeadersSettings={false}
      isHeadersEditorEnabled
    />
  </StrictMode>,
);
