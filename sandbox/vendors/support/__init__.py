"""PLACEHOLDER: replaced by the Zendesk imitation."""
from sandbox.vendor import JSONResponse, Vendor


class SupportVendor(Vendor):
    system = "support"
    title = "Zendesk (placeholder)"

    def declare_tables(self, store):
        pass

    def generate(self, world, rng):
        pass

    def routes(self):
        return []

    def authenticate(self, request):
        return None

    def error(self, status, code, message):
        return JSONResponse({"error": message}, status_code=status)
