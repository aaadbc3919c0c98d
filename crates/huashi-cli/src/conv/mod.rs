//! `huashi conv …`: convolution tools.

pub mod compare;
pub mod factorize;
