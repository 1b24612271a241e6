from celery import shared_task

from hezuo_shenbao.lib.deliveries import capped

from . import services
from .models import Bulletin, Dossier


@shared_task
def build_bulletin_task(bulletin_id: int) -> str:
    with capped(Bulletin.objects.filter(pk=bulletin_id), services.give_up) as go:
        bulletin = services.run_bulletin(bulletin_id) if go else Bulletin.objects.filter(pk=bulletin_id).first()
    return bulletin.status if bulletin else "missing"


@shared_task
def build_quarter_end_bulletin_task() -> int:
    """Celery beat, at each quarter end: a new version of the bulletin for the quarter just ended."""
    bulletin = services.create_bulletin(services.last_quarter())
    services.run_bulletin(bulletin.pk)
    return bulletin.pk


@shared_task
def build_dossier_task(dossier_id: int) -> str:
    with capped(Dossier.objects.filter(pk=dossier_id), services.give_up) as go:
        dossier = services.run_dossier(dossier_id) if go else Dossier.objects.filter(pk=dossier_id).first()
    return dossier.status if dossier else "missing"
