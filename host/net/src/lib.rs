//! baton-net (being written)
