;; A list walk: past `br_if $done (ref.is_null $l)` the reference is known not to be null,
;; so the field loads in the fall-through block have no null check of their own.
(module
  (type $cell (struct (field $v i64) (field $next (ref null $cell))))
  (func (param $l (ref null $cell)) (result i64)
    (local $s i64)
    (block $done
      (loop $w
        (br_if $done (ref.is_null (local.get $l)))
        (local.set $s (i64.add (local.get $s) (struct.get $cell $v (local.get $l))))
        (local.set $l (struct.get $cell $next (local.get $l)))
        (br $w)))
    (local.get $s)))
