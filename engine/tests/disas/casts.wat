;; ref.test against abstract targets uses the i31 tag and the header's kind bits (one AND);
;; against a concrete type it compares the header's type index, with the supertype-chain
;; check as a cold fallback. i31 boxing is a shift and an or.
(module
  (type $s (sub (struct)))
  (func (param anyref) (result i32) (ref.test (ref eq) (local.get 0)))
  (func (param anyref) (result i32) (ref.test (ref null $s) (local.get 0)))
  (func (param i32) (result i31ref) (ref.i31 (local.get 0))))
