"""Which screen opens for each step: every step of the guide has its own."""

from __future__ import annotations

from hdh_wizard.core.steps import StepId
from hdh_wizard.ui.steps.account import AccountStepScreen
from hdh_wizard.ui.steps.anonymity import AnonymityStepScreen
from hdh_wizard.ui.steps.base import StepScreen
from hdh_wizard.ui.steps.co_admin import CoAdminStepScreen
from hdh_wizard.ui.steps.contract import ContractStepScreen
from hdh_wizard.ui.steps.dataset_page import DatasetPageStepScreen
from hdh_wizard.ui.steps.deposit import DepositStepScreen
from hdh_wizard.ui.steps.interoperability import InteroperabilityStepScreen
from hdh_wizard.ui.steps.organization import OrganizationStepScreen
from hdh_wizard.ui.steps.prepare_data import PrepareDataStepScreen
from hdh_wizard.ui.steps.publication import PublicationStepScreen
from hdh_wizard.ui.steps.reference_urls import ReferenceUrlsStepScreen
from hdh_wizard.ui.steps.share_with_hdh import ShareWithHdhStepScreen
from hdh_wizard.ui.steps.volume import VolumeStepScreen

SCREENS: dict[StepId, type[StepScreen]] = {
    StepId.ACCOUNT: AccountStepScreen,
    StepId.ORGANIZATION: OrganizationStepScreen,
    StepId.CO_ADMIN: CoAdminStepScreen,
    StepId.DEPOSIT: DepositStepScreen,
    StepId.DATASET_PAGE: DatasetPageStepScreen,
    StepId.PUBLICATION: PublicationStepScreen,
    StepId.ANONYMITY: AnonymityStepScreen,
    StepId.CONTRACT: ContractStepScreen,
    StepId.INTEROPERABILITY: InteroperabilityStepScreen,
    StepId.VOLUME: VolumeStepScreen,
    StepId.PREPARE_DATA: PrepareDataStepScreen,
    StepId.SHARE_WITH_HDH: ShareWithHdhStepScreen,
    StepId.REFERENCE_URLS: ReferenceUrlsStepScreen,
}


def step_screen(step_id: StepId) -> StepScreen:
    return SCREENS[step_id]()
