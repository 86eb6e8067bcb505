"""Pure array kernels: one module per model, the MLE driver and special functions.

Kernels take validated float64 arrays and positive parameters and return float64 arrays; they
never validate (the model classes in [`relmark.clv`][relmark.clv] do). Each cites the paper and
equation it implements.
"""
