"""Experiments that combine several runs into one table (`python -m lightning_ae.experiments.<name>`)."""
