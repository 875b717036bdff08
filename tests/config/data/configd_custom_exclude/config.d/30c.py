A = py_now_allowed
