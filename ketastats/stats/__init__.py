"""Statistical kernels and models used by the ketastats analyses."""
