"""The pure domain core: no AWS, no HTTP, no clock or randomness it is not handed."""
