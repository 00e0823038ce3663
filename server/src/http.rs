//! The HTTP listener (hyper 1 on tokio, HTTP/1.1): `POST /` with `X-Amz-Target` is the API,
//! `GET /_smconform/health` and `POST /_smconform/reset` are for test set-ups. Bodies larger
//! than the configured limit are refused with 413 before they are read in full.

use crate::config::ServerConfig;
use crate::journal::JournalError;
use crate::random;
use crate::service::Service;
use crate::wire::{Answer, WireError, CONTENT_TYPE};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("reading the journal failed: {0}")]
    Task(String),
}

/// Starts servers.
pub struct Server;

impl Server {
    /// Replays the journal (if any), binds `config.bind:config.port` and serves until the
    /// handle is shut down or dropped.
    pub async fn start(config: ServerConfig) -> Result<ServerHandle, StartError> {
        let cfg = config.clone();
        let service = tokio::task::spawn_blocking(move || Service::new(&cfg))
            .await
            .map_err(|e| StartError::Task(e.to_string()))??;
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, service.clone(), config.max_body, stopped));
        Ok(ServerHandle { addr, service, stop: Some(stop), task: Some(task) })
    }
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    service: Service,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// `http://ADDR:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service behind the listener (for an in-process client on the same state).
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Stops accepting, closes every connection and waits for the listener task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(listener: TcpListener, service: Service, max_body: usize, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let service = service.clone();
                connections.spawn(async move {
                    let svc = service_fn(move |req| route(service.clone(), max_body, req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

fn respond(answer: Answer) -> Response<Full<Bytes>> {
    let builder = Response::builder()
        .status(answer.status)
        .header("content-type", CONTENT_TYPE)
        .header("x-amzn-requestid", random::uuid());
    builder.body(Full::new(Bytes::from(answer.body))).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn too_large(limit: usize) -> Answer {
    Answer {
        status: 413,
        body: WireError::client("RequestEntityTooLargeException", format!("The request body exceeds {limit} bytes."))
            .body(),
    }
}

async fn route(service: Service, max_body: usize, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let answer = match (method, path.as_str()) {
        (Method::GET, "/_smconform/health") => match service.health().await {
            Ok(v) => Answer::ok(&v),
            Err(e) => e.into(),
        },
        (Method::POST, "/_smconform/reset") => match service.reset().await {
            Ok(()) => Answer::ok(&serde_json::json!({"status": "reset"})),
            Err(e) => e.into(),
        },
        (Method::POST, _) => {
            let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
            let target = header("x-amz-target");
            let authorization = header("authorization");
            let declared = header("content-length").and_then(|l| l.parse::<usize>().ok());
            if declared.is_some_and(|l| l > max_body) {
                too_large(max_body)
            } else {
                match Limited::new(req.into_body(), max_body).collect().await {
                    Ok(body) => service.handle(target.as_deref(), authorization.as_deref(), &body.to_bytes()).await,
                    Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => too_large(max_body),
                    Err(e) => WireError::serialization(format!("The request body could not be read: {e}")).into(),
                }
            }
        }
        _ => WireError::unknown_operation().into(),
    };
    Ok(respond(answer))
}
