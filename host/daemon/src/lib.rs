//! baton (being written)
