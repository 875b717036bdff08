A = py
