"""Loads two libraries of the same learner, one compiled stepwise and one
unrolled, and checks that metac_adapt gives the same adapted parameters
(to a relative 1e-5) on the same support set, and that they differ from the
initial ones."""
import ctypes
import sys

libs = [ctypes.CDLL(path) for path in sys.argv[1:3]]
a, b = libs
P, M = a.metac_num_parameters(), a.metac_num_model_parameters()
assert (P, M) == (b.metac_num_parameters(), b.metac_num_model_parameters())
S, D = a.metac_support_size(), a.metac_num_data()
theta = (ctypes.c_float * P)()
assert a.metac_init_parameters(ctypes.c_uint64(5), theta) == 0
bufs = [(ctypes.c_float * a.metac_data_size(i, S))() for i in range(D)]
ptrs = (ctypes.POINTER(ctypes.c_float) * D)(
    *[ctypes.cast(buf, ctypes.POINTER(ctypes.c_float)) for buf in bufs])
assert a.metac_sample_task(ctypes.c_uint64(7), ctypes.c_uint64(1), S, ptrs) == 0
adapted = []
for lib in libs:
    out = (ctypes.c_float * M)()
    assert lib.metac_adapt(theta, ptrs, out) == 0, lib.metac_last_error()
    adapted.append(list(out))
x, y = adapted
moved = sum(1 for i in range(M) if x[i] != theta[i])
assert moved > M // 2, f"only {moved} of {M} parameters moved"
for i in range(M):
    assert abs(x[i] - y[i]) <= 1e-5 * max(abs(x[i]), abs(y[i]), 1e-3), (i, x[i], y[i])
print(f"same adaptation: {M} model parameters, {moved} moved")
