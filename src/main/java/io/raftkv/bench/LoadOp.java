package io.raftkv.bench;

/** One request of the load benchmark: a write of the whole value, a linearizable read, an append. */
public enum LoadOp {
  PUT,
  GET,
  APPEND
}
