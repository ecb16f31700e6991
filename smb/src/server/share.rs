//! The disk shares a server offers, replaceable while it runs (adjoind reloads them from
//! the registry's `Services\adjoind\Shares` without a restart): a connection looks a
//! share up at TREE_CONNECT and keeps it for the tree's life.

use std::fmt;
use std::sync::{Arc, RwLock};

use adjoin_rpc::srvsvc::Share;

use super::backend::Backend;
use super::token::UserToken;

/// One disk share.
pub struct DiskShare {
    /// The name clients connect to (compared without regard to case).
    pub name: String,
    /// The remark `net view` shows.
    pub comment: String,
    /// The local path, for srvsvc.
    pub path: String,
    /// No writes of any kind.
    pub read_only: bool,
    /// When set, only members of one of these gids may connect.
    pub allowed_gids: Option<Vec<u32>>,
    /// Sessions must encrypt to use the share.
    pub encrypt: bool,
    /// The files.
    pub backend: Arc<dyn Backend>,
}

impl DiskShare {
    /// Whether `token`'s user may connect.
    pub fn admits(&self, token: &UserToken) -> bool {
        self.allowed_gids
            .as_ref()
            .is_none_or(|gids| gids.iter().any(|g| token.in_group(*g)))
    }

    /// The srvsvc entry.
    pub fn listing(&self) -> Share {
        Share::disk(&self.name, &self.comment, &self.path)
    }
}

impl fmt::Debug for DiskShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskShare")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .field("allowed_gids", &self.allowed_gids)
            .field("encrypt", &self.encrypt)
            .finish_non_exhaustive()
    }
}

/// The current set of disk shares, shared by every connection.
#[derive(Debug, Clone, Default)]
pub struct Shares(Arc<RwLock<Arc<Vec<Arc<DiskShare>>>>>);

impl Shares {
    /// A set of `shares`.
    pub fn new(shares: Vec<DiskShare>) -> Self {
        let set = Self::default();
        set.replace(shares);
        set
    }

    /// Replaces the set; trees already connected keep the share they have.
    pub fn replace(&self, shares: Vec<DiskShare>) {
        self.replace_shared(shares.into_iter().map(Arc::new).collect());
    }

    /// Replaces the set with shares already shared (a program's own beside the
    /// registry's); trees already connected keep the share they have.
    pub fn replace_shared(&self, shares: Vec<Arc<DiskShare>>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(shares);
    }

    /// The share called `name`.
    pub fn find(&self, name: &str) -> Option<Arc<DiskShare>> {
        self.all()
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// Every share.
    pub fn all(&self) -> Arc<Vec<Arc<DiskShare>>> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }
}
