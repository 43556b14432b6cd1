from lightning_ae.cli import main

main()
