//! Mail: how a message leaves Rampart.

pub mod transport;
