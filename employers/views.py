from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hezuo_shenbao.lib.access import require_perm
from hezuo_shenbao.lib.concurrency import StaleEdit, expect_version
from hezuo_shenbao.lib.history import change_log

from .choices import RegisterStatus
from .filters import EmployerFilter
from .forms import BulkConfirmForm, CityFilingForm, EmployerForm, RegisterDecisionForm, RiskDecisionForm
from .models import Declaration, Employer
from .services import confirm_employers

PAGE_SIZE = 50


def _filtered(request, **kwargs):
    queryset = Employer.objects.select_related("township", "industry")
    return EmployerFilter(request.GET, queryset=queryset, **kwargs)


class RegisterPaginator(Paginator):
    """Pages the register by id, with the exact total from the cheapest read that gives it.

    One id more than a page holds says whether another page follows, and a page that is not full gives the
    total; otherwise `counted` (the same employers, shaped for counting) is counted. Ids, not whole
    employers, are sorted and made DISTINCT (search joins the former names); the page's employers are then
    read by id."""

    def __init__(self, queryset, per_page, counted):
        super().__init__(queryset.values_list("pk", flat=True), per_page)
        self.queryset = queryset
        self.counted = counted

    def _get_page(self, ids, number, paginator):
        employers = self.queryset.in_bulk(ids)
        # An employer changed or deleted between the two reads simply drops off this page.
        return super()._get_page([employers[pk] for pk in ids if pk in employers], number, paginator)

    def page_of(self, number):
        number = int(number) if str(number).isdigit() else 1
        if not 0 < number <= 1_000_000:  # a larger offset would overflow the database's integer
            number = 1
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not ids and number > 1:
            return self.page_of(1)  # past the end, e.g. an old link after employers were excluded
        self.count = bottom + len(ids) if len(ids) <= self.per_page else self.counted.count()
        page = self._get_page(ids[: self.per_page], number, self)
        page.has_more = len(ids) > self.per_page
        return page


@require_perm("employers.view_employer")
def employer_list(request):
    # As the dashboard's numbers counted it, so that a number opens exactly its list (EmployerFilter.as_counted).
    employer_filter = _filtered(request, as_counted=True)
    counted = EmployerFilter(request.GET, queryset=Employer.objects.all(), to_count=True, as_counted=True).qs
    paginator = RegisterPaginator(employer_filter.qs, PAGE_SIZE, counted)
    page = paginator.page_of(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "employers/list.html",
        {
            "filter": employer_filter,
            "page": page,
            "total": paginator.count,
            "query": query.urlencode(),
            "stale_since": employer_filter.stale_since,
            "confirm_form": BulkConfirmForm(),
        },
    )


@require_perm("employers.view_employer")
def employer_detail(request, pk):
    # Prefetched: the work timeline on the same page reads the sources and declarations again.
    employers = Employer.objects.select_related("township", "industry__parent__parent").prefetch_related(
        "sources", Prefetch("declarations", Declaration.objects.select_related("industry"))
    )
    employer = get_object_or_404(employers, pk=pk)
    return render(
        request,
        "employers/detail.html",
        {
            "employer": employer,
            "sources": employer.sources.all(),
            "aliases": employer.aliases.all(),
            "declarations": employer.declarations.all(),
            "history": change_log(employer),
            "register_form": RegisterDecisionForm(
                initial={"status": employer.register_status, "version": employer.version}
            ),
            "risk_form": RiskDecisionForm(initial={"decision": employer.risk_decision, "reason": employer.risk_reason}),
            "city_form": CityFilingForm(initial={"authority": employer.filing_authority or None}),
        },
    )


def _edit(request, employer):
    form = EmployerForm(request.POST or None, instance=employer)
    if request.method == "POST" and form.is_valid():
        try:
            employer = form.save()
        except StaleEdit as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已保存“{employer.name}”。")
            return redirect(employer)
    return render(request, "employers/form.html", {"form": form, "employer": employer})


@require_perm("employers.add_employer")
def employer_create(request):
    return _edit(request, Employer())


@require_perm("employers.change_employer")
def employer_edit(request, pk):
    return _edit(request, get_object_or_404(Employer, pk=pk))


@require_POST
@require_perm("employers.confirm_employer")
def employer_register(request, pk):
    employer = get_object_or_404(Employer, pk=pk)
    form = RegisterDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(employer)
    excluding = form.cleaned_data["status"] == RegisterStatus.EXCLUDED != employer.register_status
    if excluding and not form.cleaned_data["despite_evidence"]:
        evidence = employer.evidence_records
        if evidence:
            # Exam or monitoring records suggest hazards are there: exclusion is asked for twice.
            form = RegisterDecisionForm(initial={**form.cleaned_data, "despite_evidence": True})
            return render(
                request, "employers/confirm_exclude.html", {"employer": employer, "form": form, "evidence": evidence}
            )
    try:
        with expect_version(employer, form.cleaned_data["version"]):
            employer.set_register_status(
                form.cleaned_data["status"],
                request.user,
                form.cleaned_data["reason"],
                effective_on=form.cleaned_data["effective_on"],
            )
    except StaleEdit as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{employer.name}”名单状态已设为{employer.register_status}。")
    return redirect(employer)


def _refused(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@require_POST
@require_perm("employers.confirm_employer")
def employer_confirm_many(request):
    """批量确认纳入: the employers ticked on a page of the register, back to that page."""
    form = BulkConfirmForm(request.POST)
    # The page's filters and page number, read back as a query so nothing else reaches the Location header.
    back = redirect(f"{reverse('employers:list')}?{QueryDict(request.POST.get('query', '')).urlencode()}")
    if not form.is_valid():
        _refused(request, form)
        return back
    data = form.cleaned_data
    confirmed, already, moved = confirm_employers(
        [e.pk for e in data["employers"]],
        request.user,
        data["reason"],
        effective_on=data["effective_on"],
        seen=data["seen"],
    )
    skipped = f"，{already} 家此前已纳入，未重复确认" if already else ""
    messages.success(request, f"已确认纳入 {confirmed} 家用人单位{skipped}。")
    if moved:
        messages.warning(request, f"另有 {moved} 家在本页打开后已被他人修改，未确认，请刷新页面核对后再办理。")
    return back


@require_POST
@require_perm("employers.confirm_employer")
def employer_risk(request, pk):
    """CDC's risk class for one employer (需判断 resolved, or 一般 managed as 严重), with its reason."""
    employer = get_object_or_404(Employer.objects.select_related("industry"), pk=pk)
    form = RiskDecisionForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect(employer)
    try:
        employer.decide_risk(form.cleaned_data["decision"], request.user, form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"“{employer.name}”风险分类：{employer.risk or '未列入目录'}。")
    return redirect(employer)


@require_POST
@require_perm("employers.confirm_employer")
def employer_city_filing(request, pk):
    """A 中央企业 or 省属企业 that filed with the city (申报办法 第四条), with the proof."""
    employer = get_object_or_404(Employer, pk=pk)
    form = CityFilingForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect(employer)
    data = form.cleaned_data
    try:
        employer.record_city_filing(
            data["authority"], data["declared_on"], data["proof"], request.user, receipt_no=data["receipt_no"]
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已记录“{employer.name}”向市级申报（{employer.filing_authority}）。")
    return redirect(employer)
