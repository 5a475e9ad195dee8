// GraphiQL for Gatehouse. Monaco's workers and font are bundled beside it, so
// the page needs nothing from another origin.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './graphiql.css';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

// The page is served by the endpoint itself (GET /graphql; POST /graphql runs
// operations), so its own path is the endpoint.
const fetcher = createGraphiQLFetcher({ url: window.location.pathname });

// Bearer tokens are secrets: nothing GraphiQL writes to localStorage may hold
// request headers. `shouldPersistHeaders={false}` keeps them out of the saved
// tabs, but GraphiQL's history (plugin-history, through @graphiql/toolkit's
// HistoryStore) saves every run's headers in 'graphiql:queries' and
// 'graphiql:favorites' whatever that setting says. So GraphiQL gets this
// storage, which is localStorage without any request headers.
const WITH_HEADERS = new Set(['graphiql:queries', 'graphiql:favorites']);
const storage = {
  getItem: (key) => (key === 'graphiql:headers' ? null : localStorage.getItem(key)),
  setItem(key, value) {
    if (key === 'graphiql:headers') return;
    if (WITH_HEADERS.has(key)) {
      try {
        value = JSON.stringify(JSON.parse(value), (name, item) => (name === 'headers' ? undefined : item));
      } catch {
        return; // not the JSON GraphiQL writes: store nothing rather than a secret
      }
    }
    localStorage.setItem(key, value);
  },
  removeItem: (key) => localStorage.removeItem(key),
  get length() {
    return Object.keys(localStorage).filter((key) => key.startsWith('graphiql:')).length;
  },
  clear() {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith('graphiql:')) localStorage.removeItem(key);
    }
  },
};

const defaultQuery = `# Welcome to Gatehouse.
#
# 1. Run Register, then Login: put the cursor in an operation and press the
#    ▶ button (or Ctrl-Enter).
# 2. Copy the token from Login's result into the Headers tab below:
#      {"Authorization": "Bearer <token>"}
# 3. Run Me. To log out, put {"userId": "<your id>"} into the Variables tab
#    and run Logout.
#
# Headers are kept in this tab's memory only, never in the browser's storage.

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
      storage={storage}
      // Headers stay in memory (GraphiQL then also leaves them out of the
      // tabs it saves), and the setting that would persist them is hidden.
      shouldPersistHeaders={false}
      showPersistHeadersSettings={false}
      isHeadersEditorEnabled
    />
  </StrictMode>,
);
