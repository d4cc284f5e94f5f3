//! Hearth's HTTP and WebSocket server.
//!
//! [`startup::Application`] builds the server from [`config::Settings`]; [`cli`] is the `hearth`
//! command. Handlers live in [`routes`], one module per resource.

pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod error;
pub mod fallback;
pub mod gateway;
pub mod json;
pub mod limits;
pub mod media;
pub mod middleware;
pub mod monitoring;
pub mod openapi;
pub mod routes;
pub mod seed;
pub mod spa;
pub mod startup;
pub mod telemetry;
