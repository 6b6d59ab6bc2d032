-- compatible-from: 18
-- An expand script: builds before it keep working on it; nothing they read or write changes shape.

-- Which API client a session belongs to (Gateway:Clients): the client whose first message created it, or that first
-- posted to a session made while the API was open. Written once and kept when the session is deleted, so that a session
-- id never passes from one client to another; silos may then cache it for good. Sessions of an open API have no row.
CREATE TABLE gateway_session_clients
(
    session_id  text        PRIMARY KEY,
    client      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
