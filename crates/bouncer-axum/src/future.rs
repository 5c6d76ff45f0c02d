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

pin_project_lite::pin_project! {
    /// The future of [`BouncerService`](crate::service::BouncerService):
    /// the inner service's when the gate decided at once, an immediate
    /// denial, or (when a stage had to wait) a boxed future that finishes
    /// the decision and then calls the inner service.
    pub struct ResponseFuture<F: Future> {
        #[pin]
        state: ResponseState<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = ResponseProj]
    enum ResponseState<F: Future> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response> },
        Waiting { future: BoxFuture<'static, F::Output> },
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            state: ResponseState::Inner { future },
        }
    }

    pub(crate) fn refused(response: Response) -> Self {
        Self {
            state: ResponseState::Refused {
                response: Some(response),
            },
        }
    }

    pub(crate) fn waiting(future: BoxFuture<'static, F::Output>) -> Self {
        Self {
            state: ResponseState::Waiting { future },
        }
    }
}

impl<F: Future> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            ResponseProj::Inner { future } => future.poll(cx),
            ResponseProj::Waiting { future } => future.as_mut().poll(cx),
            ResponseProj::Refused { response } => {
                // Polled again after completion: answer 500 rather than panic.
                Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    crate::service::internal_error_response(&bouncer_core::DecisionId::new())
                })))
            }
        }
    }
}
