from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect


@login_required
def home(request):
    return redirect("employers:list")


def healthz(request):
    """Liveness for the load balancer: the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"database": f"error: {exc.__class__.__name__}"}, status=503)
    return JsonResponse({"database": "ok"})
