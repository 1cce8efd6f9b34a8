// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title DeAI timelock
/// @notice The OZ TimelockController unchanged; the subclass only gives it a project name in the build.
///         It is the DAO treasury: it holds DEAI and executes proposals queued by the governor.
contract DeAITimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
