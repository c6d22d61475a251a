"""The bundled sample catalog (the embedded default source) and the script that generates it."""
