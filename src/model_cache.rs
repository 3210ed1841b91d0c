//! The per-backend cache of loaded models.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use retailml_embed::EmbedError;

use crate::error::OrRaise;
use crate::gucs;

/// One loaded model per backend, kept for the backend's life: loading costs
/// far more than one embedding. A failed load is not kept, so installing the
/// models fixes the next call without reconnecting.
pub(crate) struct ModelCache<M> {
    slot: RefCell<Option<(PathBuf, Rc<M>)>>,
}

impl<M> ModelCache<M> {
    pub(crate) const fn new() -> Self {
        ModelCache { slot: RefCell::new(None) }
    }

    /// Whether the model from the current model directory is loaded.
    pub(crate) fn is_loaded(&self) -> bool {
        matches!(&*self.slot.borrow(), Some((dir, _)) if *dir == gucs::model_dir())
    }

    pub(crate) fn get(&self, load: impl FnOnce(&Path) -> Result<M, EmbedError>) -> Rc<M> {
        let dir = gucs::model_dir();
        if let Some((cached_dir, model)) = &*self.slot.borrow() {
            if *cached_dir == dir {
                return Rc::clone(model);
            }
        }
        let model = Rc::new(load(&dir).or_raise());
        *self.slot.borrow_mut() = Some((dir, Rc::clone(&model)));
        model
    }
}

