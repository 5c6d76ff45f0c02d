//! Named response futures.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::Response;
use futures_util::future::BoxFuture;

pin_project_lite::pin_project! {
    /// The future of [`GuardService`](crate::service::GuardService): the
    /// inner service's, or an immediate denial.
    pub struct GuardFuture<F> {
        #[pin]
        state: GuardState<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = GuardProj]
    enum GuardState<F> {
        Inner { #[pin] future: F },
        Denied { response: Option<Response> },
    }
}

impl<F> GuardFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: GuardState::Inner { future },
        }
    }

    pub(crate) fn denied(response: Response) -> Self {
        Self {
            state: GuardState::Denied {
                response: Some(response),
            },
        }
    }
}

impl<F, E> Future for GuardFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            GuardProj::Inner { future } => future.poll(cx),
            GuardProj::Denied { response } => {
                // Polled again after completion: answer 500 rather than panic.
                Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    crate::service::internal_error_response(&bouncer_core::DecisionId::new())
                })))
            }
        }
    }
}

/// The future of [`BouncerService`](crate::service::BouncerService).
pub struct ResponseFuture<E> {
    pub(crate) inner: BoxFuture<'static, Result<Response, E>>,
}

impl<E> std::fmt::Debug for ResponseFuture<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<E> Future for ResponseFuture<E> {
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}
