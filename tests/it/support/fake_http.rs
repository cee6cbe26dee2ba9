//! A loopback HTTP server for the secrets-manager fakes: each fake is a function from a
//! [`Req`] to a [`Resp`], run on 127.0.0.1 with an ephemeral port in a thread of the test
//! process. Every request is recorded ([`FakeHttp::requests`]) with its headers, so tests
//! check what the real client sent (paths, auth headers), not only what it got.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    /// `GET`, `POST` ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Req {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Resp {
    /// The HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Resp {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: serde_json::Value) -> Resp {
        Resp {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Resp {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

/// A running server; stops when dropped.
pub struct FakeHttp {
    endpoint: String,
    log: Arc<Mutex<Vec<Req>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHttp {
    /// Starts `handler` on 127.0.0.1 with an ephemeral port.
    pub fn start(handler: impl Fn(&Req) -> Resp + Send + Sync + 'static) -> FakeHttp {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind fake server"));
        let addr = server.server_addr().to_ip().expect("an IP listener");
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, l) = (Arc::clone(&server), Arc::clone(&log));
        let thread = std::thread::spawn(move || {
            while let Ok(request) = s.recv() {
                let (l, h) = (Arc::clone(&l), Arc::clone(&handler));
                // One thread per request, so a slow answer blocks nothing else.
                std::thread::spawn(move || serve(&l, &*h, request));
            }
        });
        FakeHttp {
            endpoint: format!("http://{addr}"),
            log,
            server,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `METHOD /path` of every request so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(log: &Mutex<Vec<Req>>, handler: &Handler, mut request: tiny_http::Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let req = Req {
        method: request.method().as_str().to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_owned(),
                )
            })
            .collect(),
        body,
    };
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(req.clone());
    let resp = handler(&req);
    let mut response = tiny_http::Response::from_string(resp.body).with_status_code(resp.status);
    for (name, value) in resp.headers {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
