//! Connections: hyper's HTTP/1.1 server under the router, with the time limits a public
//! service needs against clients that send slowly on purpose (slowloris) and hold a
//! connection, a task and a file descriptor each for as long as they like.
//!
//! - A request's head must arrive within the request timeout of the connection being
//!   ready for it: from the connection's start, or from the previous response on a
//!   keep-alive connection (so an idle connection is closed after that long too). A
//!   head that is late closes the connection without an answer: there is no request to
//!   answer yet.
//! - No wait for the next piece of a body lasts longer than the request timeout. A body
//!   that stalls ends the request with 408, and nothing of it is kept.
//!
//! On shutdown the listener closes at once, requests under way finish, and idle
//! connections are closed; the wait for them is bounded by the same timeout.

use std::future::Future;
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
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    allow_open_files_up_to_the_hard_limit();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
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
            let mut request: Request = request.map(|body| Body::new(IdleTimeoutBody::new(body, timeout)));
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection that ends in error (reset, timed out) has nothing to tell.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(timeout) => {},
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

/// A body that fails with [`BodyTimedOut`] when a wait for its next piece lasts longer
/// than `idle`. The clock starts when the reader waits, not when the request began, so
/// a handler that reads late is not cut short.
struct IdleTimeoutBody<B> {
    inner: B,
    idle: Duration,
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleTimeoutBody<B> {
    fn new(inner: B, idle: Duration) -> Self {
        IdleTimeoutBody { inner, idle, waiting: None }
    }
}

impl<B> http_body::Body for IdleTimeoutBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let idle = this.idle;
                let waiting = this.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                match waiting.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
                    Poll::Pending => Poll::Pending,
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
        let mut body = IdleTimeoutBody::new(Stalls(false), Duration::from_millis(50));
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), Bytes::from_static(b"first"));
        let error = body.frame().await.unwrap().unwrap_err();
        assert!(timed_out(&*error), "{error}");
        // Through axum's own reading of a body, the cause is still found.
        let error =
            Body::new(IdleTimeoutBody::new(Stalls(true), Duration::from_millis(50))).collect().await.unwrap_err();
        assert!(timed_out(&error), "{error}");
    }

    #[tokio::test]
    async fn a_complete_body_is_read_whole() {
        let body =
            IdleTimeoutBody::new(http_body_util::Full::new(Bytes::from_static(b"whole")), Duration::from_secs(1));
        assert_eq!(body.collect().await.unwrap().to_bytes(), Bytes::from_static(b"whole"));
    }
}
