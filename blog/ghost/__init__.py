"""Moving from and to Ghost: reading its exports, importing them, writing our content back out.

reader.read_export(path) -> Export; importer.import_export(export) -> Report;
exporter.export_document() -> dict in Ghost's export shape. The commands are in commands.py.
"""
