// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Reward distributor
/// @notice Epoch-based DEAI payouts. Anyone funds an open epoch; the owner (the protocol operator) decides
///         who gets paid. The contract does not compute shares from the contribution registry on purpose:
///         payouts are an off-chain decision, and whether they match validated work is what the analytics
///         audits. The registry address is kept only so indexers can link the two.
contract RewardDistributor is Ownable {
    using SafeERC20 for IERC20;

    struct Epoch {
        uint256 modelId;
        uint256 totalFunded;
        uint256 totalPaid;
        bool open;
    }

    event EpochOpened(uint256 indexed epochId, uint256 indexed modelId);
    event EpochFunded(uint256 indexed epochId, address indexed funder, uint256 amount);
    event RewardPaid(uint256 indexed epochId, address indexed recipient, uint256 amount);
    event EpochClosed(uint256 indexed epochId, uint256 totalFunded, uint256 totalPaid);

    error EpochNotOpen(uint256 epochId);
    error ZeroAmount();
    error LengthMismatch();
    error InsufficientEpochFunds(uint256 epochId, uint256 available, uint256 requested);

    IERC20 public immutable token;
    /// Optional link to the contribution registry (address(0) when unused).
    address public immutable contributionRegistry;
    /// Number of epochs; ids run 1..epochCount.
    uint256 public epochCount;
    mapping(uint256 epochId => Epoch) private _epochs;

    constructor(IERC20 token_, address contributionRegistry_, address initialOwner) Ownable(initialOwner) {
        token = token_;
        contributionRegistry = contributionRegistry_;
    }

    /// @param modelId the model the epoch rewards, or 0 for a protocol-wide epoch.
    function openEpoch(uint256 modelId) external onlyOwner returns (uint256 epochId) {
        epochId = ++epochCount;
        _epochs[epochId] = Epoch(modelId, 0, 0, true);
        emit EpochOpened(epochId, modelId);
    }

    function fund(uint256 epochId, uint256 amount) external {
        Epoch storage e = _openEpoch(epochId);
        if (amount == 0) revert ZeroAmount();
        e.totalFunded += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit EpochFunded(epochId, msg.sender, amount);
    }

    function pay(uint256 epochId, address[] calldata recipients, uint256[] calldata amounts) external onlyOwner {
        if (recipients.length != amounts.length) revert LengthMismatch();
        Epoch storage e = _openEpoch(epochId);
        uint256 sum = 0;
        for (uint256 i = 0; i < amounts.length; ++i) {
            sum += amounts[i];
        }
        uint256 available = e.totalFunded - e.totalPaid;
        if (sum > available) revert InsufficientEpochFunds(epochId, available, sum);
        e.totalPaid += sum;
        for (uint256 i = 0; i < recipients.length; ++i) {
            token.safeTransfer(recipients[i], amounts[i]);
            emit RewardPaid(epochId, recipients[i], amounts[i]);
        }
    }

    function closeEpoch(uint256 epochId) external onlyOwner {
        Epoch storage e = _openEpoch(epochId);
        e.open = false;
        emit EpochClosed(epochId, e.totalFunded, e.totalPaid);
    }

    function getEpoch(uint256 epochId) external view returns (Epoch memory) {
        return _epochs[epochId];
    }

    function _openEpoch(uint256 epochId) private view returns (Epoch storage e) {
        e = _epochs[epochId];
        if (!e.open) revert EpochNotOpen(epochId);
    }
}
