import * as p from '@subsquid/evm-codec'
import { event, fun, viewFun, indexed, ContractBase } from '@subsquid/evm-abi'
import type { EventParams as EParams, FunctionArguments, FunctionReturn } from '@subsquid/evm-abi'

export const events = {
    EpochClosed: event("0x3428f1922d52d3ab526965ae4e179f144b5ab19dc9b9c862c0629ca20e1c7012", "EpochClosed(uint256,uint256,uint256)", {"epochId": indexed(p.uint256), "totalFunded": p.uint256, "totalPaid": p.uint256}),
    EpochFunded: event("0x283d52c0dfb0ff24d18b8f60b59e4eeda8ba5856710f64912f3d69cbbef9aaf1", "EpochFunded(uint256,address,uint256)", {"epochId": indexed(p.uint256), "funder": indexed(p.address), "amount": p.uint256}),
    EpochOpened: event("0x3011a2cb7316f75847dafe7f596d9728f2bcb38e662b785f36bc7ea76e4e7142", "EpochOpened(uint256,uint256)", {"epochId": indexed(p.uint256), "modelId": indexed(p.uint256)}),
    OwnershipTransferred: event("0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0", "OwnershipTransferred(address,address)", {"previousOwner": indexed(p.address), "newOwner": indexed(p.address)}),
    RewardPaid: event("0x04492fab062412e7e4e5f46c9e919f1640652946a5e163ad6e6c1c03d87954d2", "RewardPaid(uint256,address,uint256)", {"epochId": indexed(p.uint256), "recipient": indexed(p.address), "amount": p.uint256}),
}

export const functions = {
    closeEpoch: fun("0xd16d9057", "closeEpoch(uint256)", {"epochId": p.uint256}, ),
    contributionRegistry: viewFun("0xb7c30376", "contributionRegistry()", {}, p.address),
    epochCount: viewFun("0x829965cc", "epochCount()", {}, p.uint256),
    fund: fun("0xa65e2cfd", "fund(uint256,uint256)", {"epochId": p.uint256, "amount": p.uint256}, ),
    getEpoch: viewFun("0xbc0bc6ba", "getEpoch(uint256)", {"epochId": p.uint256}, p.struct({"modelId": p.uint256, "totalFunded": p.uint256, "totalPaid": p.uint256, "open": p.bool})),
    openEpoch: fun("0xec163f2b", "openEpoch(uint256)", {"modelId": p.uint256}, p.uint256),
    owner: viewFun("0x8da5cb5b", "owner()", {}, p.address),
    pay: fun("0x0e785fd3", "pay(uint256,address[],uint256[])", {"epochId": p.uint256, "recipients": p.array(p.address), "amounts": p.array(p.uint256)}, ),
    renounceOwnership: fun("0x715018a6", "renounceOwnership()", {}, ),
    token: viewFun("0xfc0c546a", "token()", {}, p.address),
    transferOwnership: fun("0xf2fde38b", "transferOwnership(address)", {"newOwner": p.address}, ),
}

export class Contract extends ContractBase {

    contributionRegistry() {
        return this.eth_call(functions.contributionRegistry, {})
    }

    epochCount() {
        return this.eth_call(functions.epochCount, {})
    }

    getEpoch(epochId: GetEpochParams["epochId"]) {
        return this.eth_call(functions.getEpoch, {epochId})
    }

    owner() {
        return this.eth_call(functions.owner, {})
    }

    token() {
        return this.eth_call(functions.token, {})
    }
}

/// Event types
export type EpochClosedEventArgs = EParams<typeof events.EpochClosed>
export type EpochFundedEventArgs = EParams<typeof events.EpochFunded>
export type EpochOpenedEventArgs = EParams<typeof events.EpochOpened>
export type OwnershipTransferredEventArgs = EParams<typeof events.OwnershipTransferred>
export type RewardPaidEventArgs = EParams<typeof events.RewardPaid>

/// Function types
export type CloseEpochParams = FunctionArguments<typeof functions.closeEpoch>
export type CloseEpochReturn = FunctionReturn<typeof functions.closeEpoch>

export type ContributionRegistryParams = FunctionArguments<typeof functions.contributionRegistry>
export type ContributionRegistryReturn = FunctionReturn<typeof functions.contributionRegistry>

export type EpochCountParams = FunctionArguments<typeof functions.epochCount>
export type EpochCountReturn = FunctionReturn<typeof functions.epochCount>

export type FundParams = FunctionArguments<typeof functions.fund>
export type FundReturn = FunctionReturn<typeof functions.fund>

export type GetEpochParams = FunctionArguments<typeof functions.getEpoch>
export type GetEpochReturn = FunctionReturn<typeof functions.getEpoch>

export type OpenEpochParams = FunctionArguments<typeof functions.openEpoch>
export type OpenEpochReturn = FunctionReturn<typeof functions.openEpoch>

export type OwnerParams = FunctionArguments<typeof functions.owner>
export type OwnerReturn = FunctionReturn<typeof functions.owner>

export type PayParams = FunctionArguments<typeof functions.pay>
export type PayReturn = FunctionReturn<typeof functions.pay>

export type RenounceOwnershipParams = FunctionArguments<typeof functions.renounceOwnership>
export type RenounceOwnershipReturn = FunctionReturn<typeof functions.renounceOwnership>

export type TokenParams = FunctionArguments<typeof functions.token>
export type TokenReturn = FunctionReturn<typeof functions.token>

export type TransferOwnershipParams = FunctionArguments<typeof functions.transferOwnership>
export type TransferOwnershipReturn = FunctionReturn<typeof functions.transferOwnership>

