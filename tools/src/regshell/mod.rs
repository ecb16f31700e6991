//! regshell: browse and edit the Adjoin registry, interactively or from scripts.

mod commands;
mod interactive;
mod paths;
mod words;

pub(crate) use commands::{Flow, Shell};
pub(crate) use interactive::run_interactive;
pub(crate) use words::{completion_point, split_words};
