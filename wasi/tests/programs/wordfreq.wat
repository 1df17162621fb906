;; A Wasm GC program that talks to the world through WASI: it reads all of stdin, keeps
;; each distinct word as an i8 array in a binary search tree of structs, and prints every
;; word with its count, in byte order, then a summary line. Used by the wasi crate's tests.
(module
  (import "wasi_snapshot_preview1" "fd_read"
    (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; 0: iovec (ptr, len); 8: nread/nwritten; 16..64: number scratch; 1024..: the input.
  (memory (export "memory") 2)

  (type $bytes (array (mut i8)))
  (type $node (struct
    (field $word (ref $bytes))
    (field $count (mut i32))
    (field $left (mut (ref null $node)))
    (field $right (mut (ref null $node)))))

  (global $root (mut (ref null $node)) (ref.null $node))
  (global $distinct (mut i32) (i32.const 0))
  (global $total (mut i32) (i32.const 0))

  ;; Reads stdin to its end into memory at 1024, growing memory; returns the byte count.
  (func $read_all (result i32)
    (local $end i32) (local $errno i32)
    (local.set $end (i32.const 1024))
    (loop $more
      ;; Room for 64 KiB more.
      (if (i32.gt_u (i32.add (local.get $end) (i32.const 65536))
                    (i32.mul (memory.size) (i32.const 65536)))
        (then (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1))
                (then (call $proc_exit (i32.const 2))))))
      (i32.store (i32.const 0) (local.get $end))
      (i32.store (i32.const 4) (i32.const 65536))
      (local.set $errno (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
      (if (local.get $errno) (then (call $proc_exit (i32.const 3))))
      (if (i32.load (i32.const 8))
        (then
          (local.set $end (i32.add (local.get $end) (i32.load (i32.const 8))))
          (br $more))))
    (i32.sub (local.get $end) (i32.const 1024)))

  ;; The bytes [start, start + len) of memory as a new array.
  (func $word (param $start i32) (param $len i32) (result (ref $bytes))
    (local $a (ref $bytes)) (local $i i32)
    (local.set $a (array.new_default $bytes (local.get $len)))
    (loop $copy
      (if (i32.lt_u (local.get $i) (local.get $len))
        (then
          (array.set $bytes (local.get $a) (local.get $i)
            (i32.load8_u (i32.add (local.get $start) (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $copy))))
    (local.get $a))

  ;; Byte-order comparison: negative, zero or positive.
  (func $compare (param $a (ref $bytes)) (param $b (ref $bytes)) (result i32)
    (local $i i32) (local $n i32) (local $d i32)
    (local.set $n (array.len (local.get $a)))
    (if (i32.gt_u (local.get $n) (array.len (local.get $b)))
      (then (local.set $n (array.len (local.get $b)))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.sub (array.get_u $bytes (local.get $a) (local.get $i))
                               (array.get_u $bytes (local.get $b) (local.get $i))))
        (if (local.get $d) (then (return (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.sub (array.len (local.get $a)) (array.len (local.get $b))))

  (func $insert (param $w (ref $bytes))
    (local $n (ref null $node)) (local $c i32)
    (global.set $total (i32.add (global.get $total) (i32.const 1)))
    (if (ref.is_null (global.get $root))
      (then
        (global.set $root (struct.new $node (local.get $w) (i32.const 1)
                            (ref.null $node) (ref.null $node)))
        (global.set $distinct (i32.const 1))
        (return)))
    (local.set $n (global.get $root))
    (loop $down
      (local.set $c (call $compare (local.get $w) (struct.get $node $word (local.get $n))))
      (if (i32.eqz (local.get $c))
        (then
          (struct.set $node $count (local.get $n)
            (i32.add (struct.get $node $count (local.get $n)) (i32.const 1)))
          (return)))
      (if (i32.lt_s (local.get $c) (i32.const 0))
        (then
          (if (ref.is_null (struct.get $node $left (local.get $n)))
            (then
              (struct.set $node $left (local.get $n)
                (struct.new $node (local.get $w) (i32.const 1)
                  (ref.null $node) (ref.null $node)))
              (global.set $distinct (i32.add (global.get $distinct) (i32.const 1)))
              (return)))
          (local.set $n (struct.get $node $left (local.get $n))))
        (else
          (if (ref.is_null (struct.get $node $right (local.get $n)))
            (then
              (struct.set $node $right (local.get $n)
                (struct.new $node (local.get $w) (i32.const 1)
                  (ref.null $node) (ref.null $node)))
              (global.set $distinct (i32.add (global.get $distinct) (i32.const 1)))
              (return)))
          (local.set $n (struct.get $node $right (local.get $n)))))
      (br $down)))

  (func $is_space (param $c i32) (result i32)
    (i32.or (i32.eq (local.get $c) (i32.const 32))
            (i32.and (i32.ge_u (local.get $c) (i32.const 9))
                     (i32.le_u (local.get $c) (i32.const 13)))))

  ;; Writes memory [ptr, ptr + len) to stdout.
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
      (then (call $proc_exit (i32.const 4)))))

  ;; Writes a GC byte array to stdout, through the scratch area after the input.
  (func $write_bytes (param $a (ref $bytes)) (param $at i32)
    (local $i i32)
    (loop $copy
      (if (i32.lt_u (local.get $i) (array.len (local.get $a)))
        (then
          (i32.store8 (i32.add (local.get $at) (local.get $i))
            (array.get_u $bytes (local.get $a) (local.get $i)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $copy))))
    (call $write (local.get $at) (array.len (local.get $a))))

  ;; Writes " N" and, if $newline, a newline.
  (func $write_number (param $n i32) (param $newline i32)
    (local $p i32)
    (local.set $p (i32.const 64))
    (if (local.get $newline)
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.const 10))))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
    (i32.store8 (local.get $p) (i32.const 32))
    (call $write (local.get $p) (i32.sub (i32.const 64) (local.get $p))))

  (func $print (param $n (ref null $node)) (param $scratch i32)
    (if (ref.is_null (local.get $n)) (then (return)))
    (call $print (struct.get $node $left (local.get $n)) (local.get $scratch))
    (call $write_bytes (struct.get $node $word (local.get $n)) (local.get $scratch))
    (call $write_number (struct.get $node $count (local.get $n)) (i32.const 1))
    (call $print (struct.get $node $right (local.get $n)) (local.get $scratch)))

  (data (i32.const 100) "words:")
  (data (i32.const 110) " distinct:")

  (func (export "_start")
    (local $len i32) (local $i i32) (local $start i32) (local $end i32) (local $longest i32)
    (local.set $len (call $read_all))
    (local.set $end (i32.add (i32.const 1024) (local.get $len)))
    (local.set $i (i32.const 1024))
    (block $eof
      (loop $words
        ;; Skip spaces, then take a word.
        (loop $skip
          (br_if $eof (i32.ge_u (local.get $i) (local.get $end)))
          (if (call $is_space (i32.load8_u (local.get $i)))
            (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $skip))))
        (local.set $start (local.get $i))
        (loop $take
          (if (i32.lt_u (local.get $i) (local.get $end))
            (then (if (i32.eqz (call $is_space (i32.load8_u (local.get $i))))
              (then (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $take))))))
        (if (i32.gt_u (i32.sub (local.get $i) (local.get $start)) (local.get $longest))
          (then (local.set $longest (i32.sub (local.get $i) (local.get $start)))))
        (call $insert (call $word (local.get $start) (i32.sub (local.get $i) (local.get $start))))
        (br $words)))
    ;; The input is no longer needed: print through the start of its area (a word never
    ;; outgrows it).
    (call $print (global.get $root) (i32.const 1024))
    (call $write (i32.const 100) (i32.const 6))
    (call $write_number (global.get $total) (i32.const 0))
    (call $write (i32.const 110) (i32.const 10))
    (call $write_number (global.get $distinct) (i32.const 1))))
