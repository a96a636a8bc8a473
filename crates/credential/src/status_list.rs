//! Token Status List — being implemented.
