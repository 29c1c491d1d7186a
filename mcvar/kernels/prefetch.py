"""Software prefetch of one array element's cache line (LLVM's ``llvm.prefetch``).

Lookup-table updates read two random cache lines of a large table (16 MB for TaOx) per
cell; asking for them as soon as their indices are known lets the misses overlap with the
rest of the row's work instead of stalling the loads that use them.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch4(typingctx, ary, i0, i1, i2, i3):
    """Prefetch the cache line of ``ary[i0, i1, i2, i3]`` for reading (indices in bounds)."""
    if not (isinstance(ary, types.Array) and ary.ndim == 4):
        return None
    sig = types.void(ary, i0, i1, i2, i3)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        arr = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, a, t, types.intp)
               for a, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, arr, idx, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        # read (0), high temporal locality (3), data cache (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
