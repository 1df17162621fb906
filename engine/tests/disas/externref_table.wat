;; table.get is a plain load (no read barrier); table.set pays the DRC write barrier; the
;; result of table.get is declared for stack maps.
(module
  (table 4 externref)
  (func (param i32) (result externref) (table.get 0 (local.get 0)))
  (func (param i32 externref) (table.set 0 (local.get 0) (local.get 1))))
