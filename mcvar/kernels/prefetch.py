"""Software prefetch of one array element's cache line (LLVM's ``llvm.prefetch``).

A kernel that knows which memory it will read soon can ask for it first, so the cache
misses overlap with other work instead of stalling the loads that use them: the table rows
of lookup-table updates (two random lines of a 16 MB table per cell for TaOx).

With ``NUMBA_DISABLE_JIT=1`` (kernels run as Python) ``prefetch`` is a function that does
nothing: a prefetch is a hint and never changes a result.
"""

from __future__ import annotations

from llvmlite import ir
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, ary, index):
    """Prefetch the cache line of ``ary[index]`` for reading; ``index`` a tuple of
    ``ary.ndim`` integers, in bounds (not checked: a prefetch never faults)."""
    if not (isinstance(ary, types.Array) and isinstance(index, types.BaseTuple)
            and len(index) == ary.ndim and all(isinstance(t, types.Integer) for t in index)):
        return None
    sig = types.void(ary, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        arr = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, v, t, types.intp)
               for v, t in zip(cgutils.unpack_tuple(builder, args[1]), idxty)]
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


if config.DISABLE_JIT:  # an intrinsic cannot run as Python; a hint can be left out

    def prefetch(ary, index):  # noqa: F811
        """Nothing (kernels run interpreted)."""
