"""The same library from Python with ctypes: parameters, one task, the
meta-loss and its gradient."""
import ctypes
import math
import sys

lib = ctypes.CDLL(sys.argv[1])
P = lib.metac_num_parameters()
S, Q, D = lib.metac_support_size(), lib.metac_query_size(), lib.metac_num_data()
FloatArray = ctypes.c_float * P
theta, grad = FloatArray(), FloatArray()
assert lib.metac_init_parameters(ctypes.c_uint64(3), theta) == 0
def task(n, data_key):
    bufs = [(ctypes.c_float * lib.metac_data_size(i, n))() for i in range(D)]
    ptrs = (ctypes.POINTER(ctypes.c_float) * D)(*[ctypes.cast(b, ctypes.POINTER(ctypes.c_float)) for b in bufs])
    assert lib.metac_sample_task(ctypes.c_uint64(11), ctypes.c_uint64(data_key), n, ptrs) == 0
    return bufs, ptrs
support, sp = task(S, 1)
query, qp = task(Q, 2)
lib.metac_meta_loss_grad.restype = ctypes.c_float
loss = lib.metac_meta_loss_grad(theta, sp, qp, grad)
norm = math.sqrt(sum(g * g for g in grad))
print(f"python: {P} parameters, loss finite {math.isfinite(loss)}, gradient norm positive {norm > 0}")
