"""The project's date and time formats (settings.FORMAT_MODULE_PATH), by locale."""
