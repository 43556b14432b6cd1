"""`python -m lightning_ae.bench`: see `lightning_ae.bench`."""

from lightning_ae.bench import main

main()
