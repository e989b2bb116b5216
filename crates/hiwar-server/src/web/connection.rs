//! Connections: hyper's HTTP/1.1 server under the router, with the time limits a public
//! service needs against clients that send or read slowly on purpose (slowloris) and
//! would hold a connection, a task and a file descriptor each for as long as they like.
//! `timeout` is the request timeout (`Config::request_timeout`, 30 s by default):
//!
//! - A request's head must arrive within `timeout` of the connection being ready for
//!   it: from the connection's start, or from the previous response on a keep-alive
//!   connection, so a connection left idle that long is closed too (from the trusted
//!   proxy, after [`PROXY_IDLE`]: proxies keep idle connections to reuse). A late head
//!   closes the connection without an answer: there is no request to answer yet.
//! - No wait for the next piece of a body lasts longer than `timeout`, and after its
//!   first `timeout` a body must keep up [`MIN_BODY_RATE`] on average; a body that
//!   stalls or trickles ends the request with 408, and nothing of it is kept.
//! - No write of an answer waits longer than `timeout` for the client to take it: a
//!   client that stops reading loses the connection.
//!
//! On shutdown the listener closes at once, requests under way get up to
//! [`SHUTDOWN_GRACE`] to finish, and idle connections are closed.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a connection from the trusted proxy may wait idle for its next request:
/// longer than proxies keep idle connections to a server (nginx 60 s, Caddy 2 min), so
/// that the proxy, not hiwar, closes them (a request sent as hiwar closed one would
/// fail). The proxy stands between hiwar and slow clients.
pub const PROXY_IDLE: Duration = Duration::from_secs(300);

/// The average rate, in bytes a second, a body must keep up after its first
/// `timeout`: 64 KiB (the largest anonymous body) may then take at most about 94 s.
pub const MIN_BODY_RATE: u64 = 1024;

/// The longest a shutdown waits for requests under way.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    timeout: Duration,
    trusted_proxy: Option<IpAddr>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    allow_open_files_up_to_the_hard_limit();
    let builder = |idle: Duration| {
        let mut builder = http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(idle);
        builder
    };
    let (for_clients, for_proxy) = (builder(timeout), builder(timeout.max(PROXY_IDLE)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer): (_, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                // Out of file descriptors, say: wait rather than spin.
                Err(e) => {
                    tracing::error!(error = %e, "accepting a connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers go out at once rather than wait for more to send.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request: Request = request.map(|body| Body::new(TimedBody::new(body, timeout, MIN_BODY_RATE)));
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let builder = if Some(peer.ip()) == trusted_proxy { &for_proxy } else { &for_clients };
        let io = TokioIo::new(WriteTimeout::new(stream, timeout));
        let connection = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            // A connection that ends in error (reset, timed out) has nothing to tell.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {},
    }
    Ok(())
}

/// Raises this process's soft limit on open files to its hard limit: each connection
/// holds one, and the usual soft limit (1,024) would refuse new ones long before the
/// machine runs short. Where the system refuses, the limit stays as it was.
fn allow_open_files_up_to_the_hard_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain system calls on this process's own limits, with a valid pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Errors of one connection that leave the listener fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

/// The error of a body whose next piece did not arrive in time.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body stopped arriving")
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether `error`, or any error it was caused by, is a [`BodyTimedOut`].
pub fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |e| e.source()).any(|e| e.is::<BodyTimedOut>())
}

/// The clock of one wait on a client: started when the wait begins (a step pending),
/// stopped when the client makes progress. Shared by bodies and writes.
#[derive(Default)]
struct Stall(Option<Pin<Box<Sleep>>>);

impl Stall {
    /// The client made progress: the next wait starts a new clock.
    fn progressed(&mut self) {
        self.0 = None;
    }

    /// Whether the current wait, begun now if none is under way, has reached its
    /// `deadline` (asked when the wait begins); if not, `cx` is woken when it does.
    fn expired(&mut self, cx: &mut Context<'_>, deadline: impl FnOnce() -> Instant) -> bool {
        let sleep = self.0.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline())));
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// A body that fails with [`BodyTimedOut`] when a wait for its next piece lasts longer
/// than `idle`, or when, `idle` after the reader first asked for it, it has come at
/// less than `min_rate` bytes a second on average. The clocks start when the reader
/// first waits, not when the request began, so a handler that reads late is not cut
/// short.
struct TimedBody<B> {
    inner: B,
    idle: Duration,
    min_rate: u64,
    started: Option<Instant>,
    received: u64,
    waiting: Stall,
}

impl<B> TimedBody<B> {
    fn new(inner: B, idle: Duration, min_rate: u64) -> Self {
        TimedBody { inner, idle, min_rate, started: None, received: 0, waiting: Stall::default() }
    }

    /// When the body, at the rate it has come so far, is too slow.
    fn too_slow_at(&self, started: Instant) -> Instant {
        started + self.idle + Duration::from_secs_f64(self.received as f64 / self.min_rate as f64)
    }
}

impl<B> http_body::Body for TimedBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        let started = *this.started.get_or_insert_with(Instant::now);
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting.progressed();
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                    this.received += data.map_or(0, |d| d.len() as u64);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let (idle, too_slow_at) = (this.idle, this.too_slow_at(started));
                if this.waiting.expired(cx, || (Instant::now() + idle).min(too_slow_at)) {
                    Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes fail with `TimedOut` when the client takes nothing for
/// `limit`: hyper has no such timer, and a client that stops reading (a zero receive
/// window is never dropped by the kernel) would hold its connection and the answer's
/// buffers forever. Reads pass through: hyper's header timer and [`TimedBody`] time
/// them.
struct WriteTimeout<T> {
    inner: T,
    limit: Duration,
    stalled: Stall,
}

impl<T> WriteTimeout<T> {
    fn new(inner: T, limit: Duration) -> Self {
        WriteTimeout { inner, limit, stalled: Stall::default() }
    }

    /// The outcome of a write step: progress resets the clock, and a step pending for
    /// `limit` fails.
    fn timed<R>(&mut self, cx: &mut Context<'_>, step: Poll<std::io::Result<R>>) -> Poll<std::io::Result<R>> {
        match step {
            Poll::Ready(result) => {
                self.stalled.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => {
                let limit = self.limit;
                if self.stalled.expired(cx, || Instant::now() + limit) {
                    Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client took nothing of the answer for the request timeout",
                    )))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let step = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.timed(cx, step)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let step = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.timed(cx, step)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let step = Pin::new(&mut this.inner).poll_flush(cx);
        this.timed(cx, step)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let step = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.timed(cx, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::convert::Infallible;

    /// A body that sends one piece and then nothing, forever.
    struct Stalls(bool);

    impl http_body::Body for Stalls {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Pending
            } else {
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"first")))))
            }
        }
    }

    #[tokio::test]
    async fn a_stalled_body_fails_as_timed_out_after_its_first_piece() {
        let idle = Duration::from_millis(50);
        let mut body = TimedBody::new(Stalls(false), idle, MIN_BODY_RATE);
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), Bytes::from_static(b"first"));
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(timed_out(&*error), "{error}");
        // Through axum's own reading of a body, the cause is still found.
        let error = Body::new(TimedBody::new(Stalls(true), idle, MIN_BODY_RATE)).collect().await.unwrap_err();
        assert!(timed_out(&error), "{error}");
    }

    /// A body of `bytes` bytes, one every `gap`.
    fn trickle(bytes: usize, gap: Duration) -> impl http_body::Body<Data = Bytes, Error = Infallible> + Unpin {
        let pieces = futures_util::stream::unfold(0, move |sent| async move {
            (sent < bytes).then_some(())?;
            tokio::time::sleep(gap).await;
            Some((Ok(Frame::data(Bytes::from_static(b"x"))), sent + 1))
        });
        http_body_util::StreamBody::new(Box::pin(pieces))
    }

    #[tokio::test]
    async fn a_trickling_body_fails_once_below_the_minimum_rate() {
        // Each piece comes well within the idle time, but at 33 bytes a second.
        let (idle, gap) = (Duration::from_millis(100), Duration::from_millis(30));
        let error = TimedBody::new(trickle(200, gap), idle, 100).collect().await.unwrap_err();
        assert!(timed_out(&*error), "{error}");
        // At the rate asked for, it is read whole.
        let whole = TimedBody::new(trickle(20, gap), idle, 10).collect().await.unwrap().to_bytes();
        assert_eq!(whole.len(), 20);
    }

    #[tokio::test]
    async fn a_complete_body_is_read_whole() {
        let full = http_body_util::Full::new(Bytes::from_static(b"whole"));
        let body = TimedBody::new(full, Duration::from_secs(1), MIN_BODY_RATE);
        assert_eq!(body.collect().await.unwrap().to_bytes(), Bytes::from_static(b"whole"));
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_loses_the_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let limit = Duration::from_millis(50);
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = WriteTimeout::new(server, limit);
        let error = server.write_all(&[0; 1024]).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        // One that reads, however slowly within the limit, gets the whole answer.
        let (client_end, server_end) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut client_end = client_end;
            let mut got = Vec::new();
            let mut chunk = [0; 64];
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                match client_end.read(&mut chunk).await.unwrap() {
                    0 => return got.len(),
                    n => got.extend_from_slice(&chunk[..n]),
                }
            }
        });
        let mut server = WriteTimeout::new(server_end, limit);
        server.write_all(&[0; 1024]).await.unwrap();
        server.shutdown().await.unwrap();
        drop(server);
        assert_eq!(reader.await.unwrap(), 1024);
        client.shutdown().await.unwrap();
    }
}
